/** The emoticon set (7.21): codes clients put in chat text, and the image for each. */
const CODES = ['smile', 'laugh', 'wink', 'cool', 'cry', 'angry', 'heart', 'rose', 'kiss', 'clap', 'thumbs-up', 'fire'];

export function emoticons(baseUrl: string): Array<{ code: string; url: string }> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return CODES.map((name) => ({ code: `[${name}]`, url: `${base}${name}.png` }));
}
