// Hostile-but-valid strings for --hostile / {hostile:true}. Every free-text field of the fleet gets
// one of these, so the console, the proxy and the package prove they treat provider data as text.

export const HOSTILE = Object.freeze([
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  '"><svg onload=alert(1)>',
  "javascript:alert(document.cookie)",
  "'; DROP TABLE instances; --",
  "{{template}} ${7*7} <%= 7*7 %>",
  "\u202Egpj.exe\u202C rtl-override",
  "مرحبا بالعالم — خادم",
  "שלום עולם — שרת",
  "🚀🔥 gpu-ü-ß-日本語 🤖",
  "👩‍💻👨‍👩‍👧‍👦 zwj\u200Bzero\u200Dwidth\u2060joiners",
  "../../../etc/passwd %s%n%x",
  "line one\nline two\ttabbed \\ backslash",
  "null",
  "x".repeat(241) + "-255-chars-end", // exactly 255 characters
]);

/** Payloads usable as SF Compute tag values (`^[^,=]{0,256}$`). */
export const HOSTILE_TAG_VALUES = Object.freeze(
  HOSTILE.filter((s) => !/[,=]/.test(s) && [...s].length <= 256),
);

/** Payloads usable as SF Compute tag keys (`^[^_,= ][^,= ]{0,127}$`). */
export const HOSTILE_TAG_KEYS = Object.freeze([
  "<script>alert(1)</script>",
  "\u202Ertl-key",
  "emoji-🚀",
  "'--DROP",
  "{{template}}",
  "zw\u200Bj",
  "عربي",
]);

/** Pick payload number i (wraps). */
export function hostile(i) {
  return HOSTILE[((i % HOSTILE.length) + HOSTILE.length) % HOSTILE.length];
}
