/**
 * Options of every resource that holds data (volumes, claims, the namespace around claims). `retainOnDelete`
 * keeps the data when the stack is destroyed or the resource replaced; `protect` makes a plain `pulumi destroy`
 * or a replacement refuse instead of leaving data behind unmanaged, and it is the one of the two a policy pack
 * can see (the analyzer protocol does not carry retainOnDelete). `bklite audit` checks both in the state.
 */
export const KEEP_DATA = { retainOnDelete: true, protect: true } as const;
