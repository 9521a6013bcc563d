// The create form: built from `capabilities(provider).createFields`, validated by the library
// itself (the page adds no rules of its own), with the library's message shown next to the field
// it names.

import { h } from "./dom.js";

/** Builds the inputs for `fields` (FieldSpec[]) into `container`. */
export function buildFields(container, provider, fields) {
  container.replaceChildren();
  for (const f of fields) {
    const id = `cf-${f.name}`;
    const wrap = h("div", { className: "field", dataset: { field: f.name } });
    const label = h("label", { htmlFor: id }, f.label);
    if (f.required) label.append(h("span", { className: "req", attrs: { "aria-hidden": "true" } }, " *"));
    wrap.append(label);
    let input;
    switch (f.kind) {
      case "enum":
        input = h("select", { id, name: f.name });
        if (!f.required) input.append(h("option", { value: "" }, "(default)"));
        else input.append(h("option", { value: "" }, "Choose…"));
        for (const o of f.options || []) input.append(h("option", { value: o }, o));
        break;
      case "boolean":
        input = h("input", { id, name: f.name, type: "checkbox" });
        wrap.classList.add("check");
        break;
      case "text":
      case "keyValue":
        input = h("textarea", { id, name: f.name, rows: f.kind === "keyValue" ? 3 : 3, spellcheck: false });
        if (f.kind === "keyValue") input.placeholder = "key=value, one per line";
        break;
      case "integer":
        input = h("input", { id, name: f.name, type: "text", inputMode: "numeric", autocomplete: "off" });
        break;
      default:
        input = h("input", { id, name: f.name, type: "text", autocomplete: "off", spellcheck: false });
    }
    if (f.required) input.setAttribute("aria-required", "true");
    input.dataset.kind = f.kind;
    const msgId = `${id}-error`;
    const helpId = `${id}-help`;
    input.setAttribute("aria-describedby", `${helpId} ${msgId}`);
    wrap.append(input);
    const hints = [];
    if (f.help) hints.push(f.help);
    if (f.min !== undefined || f.max !== undefined) hints.push(`${f.min ?? "…"}–${f.max ?? "…"}`);
    if (f.maxLength !== undefined) hints.push(`at most ${f.maxLength} characters`);
    wrap.append(h("small", { id: helpId, className: "help" }, hints.join("; ")));
    wrap.append(h("p", { id: msgId, className: "error field-error", attrs: { role: "alert" } }));
    container.append(wrap);
  }
}

/** Parses `key=value` lines. Lines without `=` become a key with an empty value. */
function parsePairs(text) {
  const pairs = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const i = line.indexOf("=");
    pairs.push(i < 0 ? [line.trim(), ""] : [line.slice(0, i).trim(), line.slice(i + 1)]);
  }
  return pairs;
}

/**
 * Reads the form into the provider's create input: empty fields are left out, integers are sent as
 * numbers when they look like one (anything else is passed as typed, and the library says why it
 * is wrong), `keyValue` fields become an object — except Novita's `envs`, which the API takes as
 * a list of `{ key, value }`.
 */
export function readInput(container, fields) {
  const input = {};
  for (const f of fields) {
    const el = container.querySelector(`[name="${CSS.escape(f.name)}"]`);
    if (!el) continue;
    if (f.kind === "boolean") {
      if (el.checked) input[f.name] = true;
      continue;
    }
    const v = el.value;
    if (v.trim() === "") continue;
    if (f.kind === "integer") {
      input[f.name] = /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    } else if (f.kind === "keyValue") {
      const pairs = parsePairs(v);
      input[f.name] = f.name === "envs" ? pairs.map(([key, value]) => ({ key, value })) : Object.fromEntries(pairs);
    } else {
      input[f.name] = v;
    }
  }
  return input;
}

/** Clears every field message. */
export function clearErrors(container) {
  for (const p of container.querySelectorAll(".field-error")) p.textContent = "";
  for (const el of container.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** The rule alone of a message that starts with its field's path (`input.sshKey: is required` → `is required`). */
function ruleOf(field, message) {
  const prefix = `${field}: `;
  return String(message).startsWith(prefix) ? String(message).slice(prefix.length) : String(message);
}

/**
 * Shows the library's message next to the field it names (`field` is e.g. `sshKey`,
 * `input.gpuNum`, `tags.owner` or `envs[0].key`), in words: the field's label and the rule
 * (“SSH public key is required”), never the path. A second problem of the same field is added
 * to the first. Returns whether a field took it.
 */
export function showFieldError(container, field, message, focus = true) {
  if (!field) return false;
  // The top-level input field owns nested paths (`envs[0].key` → `envs`).
  const name = field.replace(/^input\./, "").split(/[.[]/)[0];
  const wrap = [...container.querySelectorAll(".field")].find((w) => w.dataset.field === name);
  if (!wrap) return false;
  const label = wrap.querySelector("label")?.firstChild?.textContent || name;
  const text = `${label} ${ruleOf(field, message)}`;
  const out = wrap.querySelector(".field-error");
  if (!out.textContent.split("; ").includes(text)) out.textContent = out.textContent ? `${out.textContent}; ${text}` : text;
  const input = wrap.querySelector("input, select, textarea");
  input.setAttribute("aria-invalid", "true");
  if (focus) input.focus();
  return true;
}

/**
 * Shows every problem of a create error next to its field: the error's own `field`/`message` and
 * each of its `details` (the library lists every missing field there). The first field placed
 * takes the focus. Returns whether every problem found its field.
 */
export function showFieldErrors(container, error) {
  const problems = [{ field: error.field, message: error.message }, ...(Array.isArray(error.details) ? error.details : [])];
  let placed = 0;
  for (const p of problems) if (showFieldError(container, p.field, p.message, placed === 0)) placed++;
  return placed === problems.length;
}
