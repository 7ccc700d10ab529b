// The GPP section ids and API prefixes the SDK knows: tcfeuv2 (2) and the
// US sections (usnat 7, then the states 8 to 27). Shared by the encoder
// (loaded in US regions only) and __gpp (in every region), so that the CMP
// API names sections without carrying the encoder.

const US_NAMES = "usnat usca usva usco usut usct usfl usmt usor ustx usde usia usne usnh usnj ustn usmn usmd usin usky usri".split(
  " ",
);

/** The API prefix of a section id the SDK knows (tcfeuv2, usnat, ...). */
export function sectionName(id: number): string | undefined {
  return id == 2 ? "tcfeuv2" : US_NAMES[id - 7];
}

/** The section id of an API prefix the SDK knows; 0 for any other. */
export function sectionId(name: string): number {
  const i = US_NAMES.indexOf(name);
  return name == "tcfeuv2" ? 2 : i < 0 ? 0 : i + 7;
}

/** Every section id the SDK knows, in order. */
export const SECTION_IDS = [2, ...US_NAMES.map((_, i) => i + 7)];
