/**
 * What was typed into "join with a code": a join link goes as it is; a code loses the spaces
 * and hyphens people copy from the projector ("8Z8 25A", "8Z8-25A") and is made capitals.
 * The server reads codes the same way (`typed_join_code` in server/src/access/mod.rs); this
 * only keeps what is sent tidy.
 */
export function typedInvitation(text: string): string {
  const trimmed = text.trim();
  if (trimmed.includes('/')) return trimmed;
  return trimmed.replace(/[\s\-\u2010-\u2015\u2212]/gu, '').toUpperCase();
}
