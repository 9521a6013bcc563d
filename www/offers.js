// Offer pickers in the create form, fed by `fleet.offers(provider)`: Novita products (on demand
// and spot apart, priced per GPU-hour) and then a cluster from that product's regions; SF Compute
// SKUs (priced from its order book: an estimate); fal instance types (priced only from the
// proxy's price table). The hourly price of the current choice is shown before Create.
//
// The form itself stays what create.js builds from `createFields`: a picker only writes the
// field's own input (which `readInput` reads), and every picker keeps a way to type an id.
// When the offers cannot be loaded, the form is the plain free-text one, with the reason shown.

import { h } from "./dom.js";
import { MISSING, perHourText, priceMicro, rateText, sourceText } from "./money.js";

/** Which create field picks the offer, and which fields follow from it. */
const PICKERS = {
  novita: { offer: "productId", region: "clusterId", billing: "billingMode", count: "gpuNum" },
  sfcompute: { offer: "instanceSku" },
  fal: { offer: "instanceType" },
  "fal-alpha": { offer: "instanceType" },
};

const OTHER = "__other";
const BILLING_LABEL = { onDemand: "On demand", spot: "Spot (may be reclaimed)", monthly: "Monthly" };
const BILLING_WORD = { onDemand: "on demand", spot: "spot", monthly: "monthly" };

/** Whether the create form of `provider` has offer pickers. */
export function hasPickers(provider) {
  return Object.hasOwn(PICKERS, provider);
}

function wrapOf(container, name) {
  return [...container.querySelectorAll(".field")].find((w) => w.dataset.field === name) || null;
}

function inputOf(container, name) {
  return wrapOf(container, name)?.querySelector(`[name="${CSS.escape(name)}"]`) || null;
}

/** "$2.40/GPU-h" or "$3.99/h" for one offer's unit price; "no price" without one. */
function unitPriceText(offer) {
  const micro = priceMicro(offer.price);
  if (!Number.isFinite(micro)) return "no price";
  const usd = micro / 1e6;
  const approx = offer.price.source === "quote" ? "≈" : "";
  return offer.unit === "gpu" ? `${approx}${rateText(usd)}/GPU-h` : `${approx}${perHourText(usd)}`;
}

function optionLabel(offer) {
  const name = typeof offer.name === "string" && offer.name ? offer.name : String(offer.id);
  const bits = [name];
  if (name !== offer.id) bits.push(`(${offer.id})`);
  bits.push("—", unitPriceText(offer));
  if (offer.billing && offer.billing !== "onDemand") bits.push(`· ${BILLING_WORD[offer.billing] || offer.billing}`);
  if (offer.available === false) bits.push("· not available now");
  return bits.join(" ");
}

function offerTitle(offer) {
  const lines = [];
  const micro = priceMicro(offer.price);
  if (Number.isFinite(micro)) {
    lines.push(`${unitPriceText(offer)}: ${sourceText(offer.price.source)}`);
    if (typeof offer.price.basis === "string" && offer.price.basis) lines.push(offer.price.basis);
  }
  if (typeof offer.priceNote === "string" && offer.priceNote) lines.push(offer.priceNote);
  if (Array.isArray(offer.regions) && offer.regions.length) lines.push(`regions: ${offer.regions.join(", ")}`);
  return lines.join("\n");
}

/** Only well-formed offers of `provider` (a malformed one is left out, never breaks the form). */
export function usableOffers(offers, provider) {
  if (!Array.isArray(offers)) return [];
  return offers.filter((o) => o && typeof o === "object" && o.provider === provider && typeof o.id === "string" && o.id !== "");
}

/**
 * Turns the offer field of the form in `container` into a picker of `offers` (already built by
 * create.js). A select field (fal's instance types) keeps its options and gets their prices; a
 * text field (Novita's product id, SF Compute's SKU) gets a picker in front of it, with "Other"
 * to type an id. Returns false when there is nothing to pick from (the plain form stays).
 */
export function attachPickers(container, provider, offers) {
  const spec = PICKERS[provider];
  if (!spec || !offers.length) return false;
  const input = inputOf(container, spec.offer);
  if (!input) return false;
  if (input.tagName === "SELECT") {
    for (const opt of input.options) {
      const offer = offers.find((o) => o.id === opt.value);
      if (!offer) continue;
      opt.textContent = optionLabel(offer);
      opt.title = offerTitle(offer);
      opt.dataset.offer = String(offers.indexOf(offer));
    }
    input.dataset.picker = "offer";
    return true;
  }

  const picker = h("select", { className: "picker", id: input.id, dataset: { picker: "offer" } });
  picker.setAttribute("aria-describedby", input.getAttribute("aria-describedby") || "");
  if (input.getAttribute("aria-required")) picker.setAttribute("aria-required", "true");
  input.id = `${input.id}-text`;
  input.setAttribute("aria-label", `${wrapOf(container, spec.offer).querySelector("label").textContent.replace(/\s*\*$/, "")} (typed)`);
  input.placeholder = "type an id";
  picker.append(h("option", { value: "" }, "Choose…"));
  const groups = new Map();
  offers.forEach((o, i) => {
    const billing = typeof o.billing === "string" ? o.billing : "onDemand";
    if (!groups.has(billing)) groups.set(billing, h("optgroup", { label: BILLING_LABEL[billing] || billing }));
    groups.get(billing).append(h("option", { value: String(i), title: offerTitle(o), dataset: { offerId: o.id, billing } }, optionLabel(o)));
  });
  // One group needs no heading (SF Compute, fal): the options go in as they are.
  if (groups.size === 1) picker.append(...groups.values().next().value.children);
  else picker.append(...groups.values());
  picker.append(h("option", { value: OTHER }, "Other (type an id)…"));
  input.before(picker);

  // Something typed while the offers loaded is kept: picked when it is an offer, else "Other".
  const typed = input.value.trim();
  if (typed) {
    const billing = spec.billing ? inputOf(container, spec.billing)?.value || "onDemand" : null;
    const i = offers.findIndex((o) => o.id === typed && (!billing || (o.billing || "onDemand") === billing));
    const j = i >= 0 ? i : offers.findIndex((o) => o.id === typed);
    picker.value = j >= 0 ? String(j) : OTHER;
  }
  input.hidden = picker.value !== OTHER;

  picker.addEventListener("change", () => {
    if (picker.value === OTHER) {
      input.hidden = false;
      input.focus();
    } else {
      input.hidden = true;
      const offer = offers[Number(picker.value)];
      input.value = offer ? offer.id : "";
      if (offer && spec.billing) {
        const billing = inputOf(container, spec.billing);
        if (billing) {
          if (offer.billing === "spot") billing.value = "spot";
          else if (billing.value === "spot") billing.value = "";
        }
      }
      if (offer && spec.count && offer.unit === "gpu") {
        const count = inputOf(container, spec.count);
        if (count && count.value.trim() === "") count.value = "1";
      }
    }
    if (spec.region) regionPicker(container, spec, chosenOffer(container, provider, offers));
  });
  if (spec.region) regionPicker(container, spec, chosenOffer(container, provider, offers));
  return true;
}

/** The cluster picker of the chosen product's regions (the plain text field when it has none). */
function regionPicker(container, spec, offer) {
  const wrap = wrapOf(container, spec.region);
  const input = inputOf(container, spec.region);
  if (!wrap || !input) return;
  const old = wrap.querySelector("select.picker");
  const regions = offer && Array.isArray(offer.regions) ? offer.regions.filter((r) => typeof r === "string" && r) : [];
  if (old) {
    old.remove();
    input.id = old.id;
  }
  input.hidden = false;
  if (!regions.length) return;
  const picker = h("select", { className: "picker", id: input.id, dataset: { picker: "region" } });
  picker.setAttribute("aria-describedby", input.getAttribute("aria-describedby") || "");
  input.id = `${input.id}-text`;
  input.setAttribute("aria-label", "Cluster id (typed)");
  picker.append(h("option", { value: "" }, "Any of its clusters (the provider picks)"));
  for (const r of regions) picker.append(h("option", { value: r }, r));
  picker.append(h("option", { value: OTHER }, "Other (type an id)…"));
  const current = input.value.trim();
  picker.value = !current ? "" : regions.includes(current) ? current : OTHER;
  input.hidden = picker.value !== OTHER;
  picker.addEventListener("change", () => {
    if (picker.value === OTHER) {
      input.hidden = false;
      input.focus();
    } else {
      input.hidden = true;
      input.value = picker.value;
    }
  });
  input.before(picker);
}

/**
 * The offer the form currently names: by the offer field's value and, on Novita, the billing
 * mode (on demand and spot are separate offers). Null when none is chosen or none matches.
 */
export function chosenOffer(container, provider, offers) {
  const spec = PICKERS[provider];
  if (!spec) return null;
  const input = inputOf(container, spec.offer);
  const id = input ? input.value.trim() : "";
  if (!id) return null;
  const same = offers.filter((o) => o.id === id);
  if (!spec.billing) return same[0] || null;
  const mode = inputOf(container, spec.billing)?.value || "onDemand";
  return same.find((o) => (o.billing || "onDemand") === mode) || (same.length ? { ...same[0], price: undefined, priceNote: `no ${mode} price in the offers for ${id}` } : null);
}

/**
 * What the current choice costs per hour, for the line above Create: { text, micro? }.
 * `micro` is the total in micro-dollars per hour (the unit price × the GPU count for a
 * per-GPU offer), only when it is known.
 */
export function choicePrice(container, provider, offers) {
  const spec = PICKERS[provider];
  if (!spec || !offers.length) return { text: "" };
  const offer = chosenOffer(container, provider, offers);
  const what = spec.offer === "productId" ? "a product" : spec.offer === "instanceSku" ? "a SKU" : "an instance type";
  if (!offer) {
    const typed = inputOf(container, spec.offer)?.value.trim();
    return { text: typed ? `${typed} is not among the offers: its price is not known.` : `Choose ${what} to see its hourly price.` };
  }
  const unit = priceMicro(offer.price);
  const name = offer.name || offer.id;
  if (!Number.isFinite(unit)) return { text: `Price: ${MISSING} (${offer.priceNote || "the provider gives no price for it"})` };
  // On Novita the same product is on demand or spot: the choice says which.
  const billing = spec.billing && offer.billing ? `${BILLING_WORD[offer.billing] || offer.billing}, ` : "";
  const source = billing + sourceText(offer.price.source);
  const approx = offer.price.source === "quote" ? "≈" : "";
  if (offer.unit === "gpu") {
    const raw = spec.count ? inputOf(container, spec.count)?.value.trim() : "";
    const n = /^\d+$/.test(raw || "") ? Number(raw) : NaN;
    const per = `${rateText(unit / 1e6)} per GPU-hour`;
    if (!(n >= 1)) return { text: `Price: ${approx}${per} (${name}, ${source}); enter the number of GPUs.` };
    const total = unit * n;
    return { text: `Price: ${approx}${perHourText(total / 1e6)} — ${n} GPU${n === 1 ? "" : "s"} × ${per} (${name}, ${source})`, micro: total };
  }
  return { text: `Price: ${approx}${perHourText(unit / 1e6)} (${name}, ${source})`, micro: unit };
}
