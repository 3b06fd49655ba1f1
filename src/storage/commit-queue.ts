import type { CommitWork } from './journal-engine.js';

/** Somewhere to put work into the node's group commit (the journal engine). */
export interface CommitQueue {
  submit(work: CommitWork): void;
}

/**
 * Runs `apply` inside the next group commit (same transaction and fsync as
 * everything else queued) and resolves with what it returned once that commit
 * succeeded; rejects when the commit failed (nothing of it is stored).
 */
export function committed<T>(commits: CommitQueue, apply: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    let out: T;
    commits.submit({ apply: () => void (out = apply()), done: (err) => (err ? reject(err) : resolve(out)) });
  });
}
