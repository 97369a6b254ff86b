/**
 * The width of a progress bar that leaves `reserved` columns for the rest of its line on a terminal
 * `columns` wide (between 10 and 40): cli-progress cuts a line at the terminal's edge (80 columns when
 * the terminal does not tell), so a fixed 40-column bar would hide the sizes, rate and state.
 */
export function barSize(columns: number | undefined, reserved: number): number {
  const width = columns && columns > 0 ? columns : 80;
  return Math.max(10, Math.min(40, width - reserved));
}
