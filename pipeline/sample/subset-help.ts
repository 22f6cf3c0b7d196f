/** What --subset takes: said in the help and in the error for one that is neither. */
export const SUBSET_HELP =
  "a file of task ids (one per line), all_<split>, shortest|middle|longest_<split>_<N> (by total grid cells), or random_<split>_<N>[_seed<S>]; <split> is training or evaluation";
