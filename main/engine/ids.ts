import { v7 } from 'uuid';

/** Ids of vaults, secrets, agents, users, policies and audit entries: UUID v7, which sort by time. */
export function newId(): string {
  return v7();
}
