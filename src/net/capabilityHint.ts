// Opening a raw or packet socket fails with EPERM without CAP_NET_RAW: only then
// is the missing capability the likely cause worth naming (a missing addon or an
// old kernel is not helped by it).

export function capabilityHint(message: string): string {
  return /Operation not permitted/.test(message) ? ' (ipmpd needs CAP_NET_RAW)' : '';
}
