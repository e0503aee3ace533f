// An identicon derived from a public key: two colours and a 5×5 grid mirrored left-to-right,
// so people with similar names still look different. Pure and deterministic.

export interface Identicon {
  /** Foreground colour (CSS hsl). */
  color: string;
  /** Background colour (CSS hsl). */
  background: string;
  /** 25 cells, row by row; true = filled. Columns 3 and 4 mirror columns 1 and 0. */
  cells: boolean[];
}

function bytesOf(hex: string): number[] {
  const clean = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const bytes: number[] = [];
  for (let i = 0; i + 1 < clean.length; i += 2) bytes.push(parseInt(clean.slice(i, i + 2), 16));
  // Short or empty input still gets a (stable) picture instead of an exception.
  while (bytes.length < 32) bytes.push((bytes.length * 97 + 13) & 0xff);
  return bytes;
}

export function identicon(publicKey: string): Identicon {
  const bytes = bytesOf(publicKey);
  const hue = ((bytes[0] << 8) | bytes[1]) % 360;
  const saturation = 45 + (bytes[2] % 30);
  const lightness = 38 + (bytes[3] % 16);
  const cells: boolean[] = new Array(25).fill(false);
  // 15 independent cells (columns 0..2), one byte each: filled when the byte is odd.
  for (let row = 0; row < 5; row++) {
    for (let col = 0; col < 3; col++) {
      const on = (bytes[4 + row * 3 + col] & 1) === 1;
      cells[row * 5 + col] = on;
      cells[row * 5 + (4 - col)] = on;
    }
  }
  // A blank picture tells nobody apart: fill the centre column then.
  if (!cells.some(Boolean)) for (let row = 0; row < 5; row++) cells[row * 5 + 2] = true;
  return {
    color: `hsl(${hue} ${saturation}% ${lightness}%)`,
    background: `hsl(${(hue + 180) % 360} 30% 93%)`,
    cells,
  };
}

/** A short, still fairly unique form of a key for places without a display name. */
export function shortKey(publicKey: string): string {
  return publicKey.slice(0, 8);
}
