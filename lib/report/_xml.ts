/**
 * XML 1.0 escaping for text and attribute values.
 *
 * @module
 */

// Characters XML 1.0 does not allow at all, even as references: C0 controls
// but tab/LF/CR, lone surrogates, U+FFFE and U+FFFF.
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function visible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Escapes text for element content. Characters XML 1.0 forbids are
 * replaced by a visible `\uXXXX` so the document stays well formed and the
 * reader still sees that something was there.
 *
 * @param text Any text.
 * @returns Text safe between tags.
 */
export function xmlText(text: string): string {
  return text.replace(NOT_XML_CHAR, visible)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/**
 * Escapes text for a double-quoted attribute value. Tab, LF and CR become
 * character references, which attribute-value normalization keeps (raw
 * ones would be read back as spaces).
 *
 * @param text Any text.
 * @returns Text safe inside `"…"`.
 */
export function xmlAttr(text: string): string {
  return xmlText(text)
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}
