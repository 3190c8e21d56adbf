/** The shapes the content model and its encoders share (kept apart so neither imports the other's code). */

export type EncoderKind = 'pca' | 'autoencoder';

/** Centring and per-column scale, fitted over the movies that have data for each column's group. */
export interface Scaler {
  mean: Float32Array;
  scale: Float32Array;
}

/**
 * One movie's scaled, centred row z as encoders read it: densely, and as its stored columns (ascending)
 * with their z values plus the groups it has (a column it does not store is −μ_j·s_j in a group it has).
 */
export interface ScaledRow {
  /** z, length inputDim. */
  dense: Float64Array;
  indices: Int32Array;
  values: Float64Array;
  /** Number of stored entries in indices/values. */
  nnz: number;
  present: Uint8Array;
}

/**
 * Turns a scaled row into outputDim numbers (normalised to unit length by the model). Fitted by
 * ContentModel.fit (PCA or the autoencoder), saved as small JSON plus typed arrays.
 */
export interface Encoder {
  readonly kind: EncoderKind;
  readonly inputDim: number;
  readonly outputDim: number;
  encode(z: ScaledRow, out: Float32Array, offset: number): void;
  save(): { meta: object; arrays: Record<string, Float32Array | Float64Array> };
}
