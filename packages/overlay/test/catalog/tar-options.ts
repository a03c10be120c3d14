/** How a test tar deviates from a well-formed one, to reproduce real producers' defects. */
export interface TarOptions {
  /** Leave out the two zero blocks at the end, as umoci's `insert` layers do. */
  noEndMarker?: boolean;
  /** Also cut the zero padding after the last file's data (umoci's layer 2 in U01). */
  unpaddedLastBlock?: boolean;
}
