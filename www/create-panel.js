// The create panel: the form for the chosen provider (create.js builds it from the library's
// `createFields`), its offer pickers and the choice's hourly price (offers.js, fed by
// fleet.offers(), kept OFFERS_MS per provider), and the create itself — then the new instance is
// opened and watched until it runs.

import { $, h, errorText, plural } from "./dom.js";
import { buildFields, clearErrors, readInput, showFieldErrors } from "./create.js";
import { attachPickers, choicePrice, hasPickers, usableOffers } from "./offers.js";
import { priceUsd } from "./money.js";
import { LIST_TIMEOUT_MS, displayName, state } from "./state.js";
import { setInstance, toast } from "./fleet-view.js";
import { closeDetails, openDetails, watch } from "./details-panel.js";

const OFFERS_MS = 60_000; // offers (and their prices) are kept this long per provider

const offerCache = new Map(); // provider → { at, offers, error }
let createFields = [];
let createOffers = []; // the usable offers of the provider the form is built for
let createSeq = 0; // which form build the offers being loaded are for

/** Sign-out: the next session asks for offers afresh. */
export function forgetOffers() {
  offerCache.clear();
}

export function openCreate() {
  const creatable = [...state.caps.values()].filter((c) => c.operations.includes("create"));
  if (!creatable.length) return;
  closeDetails();
  $("audit").hidden = true;
  $("orphans").hidden = true;
  const select = $("create-provider");
  const current = select.value;
  select.replaceChildren(...creatable.map((c) => h("option", { value: c.provider }, c.displayName)));
  if (creatable.some((c) => c.provider === current)) select.value = current;
  buildCreateFields();
  $("create").hidden = false;
  select.focus();
}

export function buildCreateFields() {
  const p = $("create-provider").value;
  // capabilities() is the library's own description of the create input (the same in proxy mode).
  createFields = state.caps.get(p)?.createFields ?? state.fleet.capabilities(p).createFields;
  buildFields($("create-fields"), p, createFields);
  $("create-error").textContent = "";
  createOffers = [];
  const seq = ++createSeq;
  updateCreatePrice();
  if (!hasPickers(p)) {
    setOffersNote("");
    return;
  }
  const cached = offerCache.get(p);
  if (cached && !cached.error && Date.now() - cached.at < OFFERS_MS) {
    useOffers(p, cached);
    return;
  }
  setOffersNote(`Loading ${displayName(p)}'s offers and prices…`, "loading");
  loadOffers(p).then((st) => {
    // Only for the form it was asked for (not after a switch of provider or a close).
    if (seq === createSeq && $("create-provider").value === p) useOffers(p, st);
  });
}

/** `fleet.offers(p)`, never rejecting: { at, offers } or { at, error }. */
async function loadOffers(p) {
  const f = state.fleet;
  let st;
  try {
    const listing = await f.offers(p, { timeoutMs: LIST_TIMEOUT_MS });
    const failure = (listing?.errors || []).find((x) => x && x.provider === p);
    st = failure ? { at: Date.now(), error: failure.error } : { at: Date.now(), offers: usableOffers(listing?.offers, p) };
  } catch (error) {
    st = { at: Date.now(), error };
  }
  if (f === state.fleet) offerCache.set(p, st);
  return st;
}

function setOffersNote(text, kind = "") {
  const note = $("create-offers");
  note.textContent = text;
  note.dataset.state = kind;
}

/** Puts the loaded offers into the form, or says why the ids have to be typed. */
function useOffers(p, st) {
  const container = $("create-fields");
  if (st.error) {
    createOffers = [];
    setOffersNote(`${displayName(p)}'s offers could not be loaded (${errorText(st.error)}): type the ids.`, "error");
  } else if (attachPickers(container, p, st.offers)) {
    createOffers = st.offers;
    const priced = st.offers.filter((o) => Number.isFinite(priceUsd(o.price))).length;
    setOffersNote(`${plural(st.offers.length, "offer")} from ${displayName(p)}, ${priced} with a price.`, "ok");
  } else {
    createOffers = [];
    setOffersNote(`${displayName(p)} lists no offers: type the ids.`, "empty");
  }
  updateCreatePrice();
}

/** The hourly price of the current choice, above Create. */
export function updateCreatePrice() {
  const line = $("create-price");
  const { text, micro } = choicePrice($("create-fields"), $("create-provider").value, createOffers);
  line.textContent = text;
  if (Number.isFinite(micro)) line.dataset.micro = String(micro);
  else delete line.dataset.micro;
}

export async function submitCreate(ev) {
  ev.preventDefault();
  if (!state.fleet) return;
  const p = $("create-provider").value;
  const container = $("create-fields");
  clearErrors(container);
  $("create-error").textContent = "";
  const input = readInput(container, createFields);
  const submit = $("create-submit");
  submit.disabled = true;
  submit.textContent = "Creating…";
  let inst;
  try {
    inst = await state.fleet.create(p, input);
  } catch (e) {
    if (!(e.code === "invalidInput" || e.code === "validation") || !showFieldErrors(container, e)) {
      $("create-error").textContent = errorText(e);
    }
    return;
  } finally {
    submit.disabled = false;
    submit.textContent = "Create";
  }
  $("create").hidden = true;
  const key = `${inst.provider}/${inst.id}`;
  if (!state.providerState.has(inst.provider)) state.providerState.set(inst.provider, { instances: new Map(), at: 0, error: null });
  setInstance(key, inst);
  openDetails(key);
  toast(`Created ${displayName(p)} instance ${inst.name || inst.id}.`, "ok");
  if (inst.status !== "running") await watch(key, inst.provider, inst.id, "running", "Create");
}
