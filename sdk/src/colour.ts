// WCAG contrast: relative luminance and the contrast ratio of two colours.

/** Relative luminance of `#rrggbb` (WCAG 2.x), or null when not a colour. */
export function luminance(hex: string): number | null {
  const m = /^#([0-9a-f]{6})$/i.exec(hex || "");
  if (!m) return null;
  const n = parseInt(m[1], 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
}

/** Contrast ratio of two `#rrggbb` colours (1 to 21); 1 when either is not a colour. */
export function contrast(a: string, b: string): number {
  const la = luminance(a);
  const lb = luminance(b);
  if (la == null || lb == null) return 1;
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Black or white, whichever contrasts more with `bg`. */
export function readableOn(bg: string): string {
  return contrast("#000000", bg) >= contrast("#ffffff", bg) ? "#000000" : "#ffffff";
}

/** The theme: configured colours, with text colours replaced where they would fall below 4.5:1. */
export function theme(primary?: string, background?: string, text?: string) {
  const bg = luminance(background || "") == null ? "#ffffff" : (background as string);
  const p = luminance(primary || "") == null ? "#1f5eff" : (primary as string);
  const t = text && contrast(text, bg) >= 4.5 ? text : readableOn(bg);
  return { primary: p, background: bg, text: t, onPrimary: readableOn(p) };
}
