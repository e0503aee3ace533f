// Names sort like people expect: "Stage 2" before "Stage 10", case ignored. A shared Collator
// is also much faster than localeCompare when sorting 10k titles.
export const compareNames = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;
