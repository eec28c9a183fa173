import type { ApprovalInfo } from './approval-service.js';

/**
 * What the engine tells its subscribers (the `/v1/events` stream, the desktop app's
 * notifications, an MCP call waiting for a decision) without their polling. Events are emitted
 * after the change they describe is committed; they carry no secret value.
 */
export type EngineEvent =
  | { type: 'approval.created' | 'approval.decided' | 'approval.expired'; approval: ApprovalInfo }
  | { type: 'talon.locked' | 'talon.unlocked'; at: string };

export type EngineEventType = EngineEvent['type'];
export type EngineEventListener = (event: EngineEvent) => void;

/** A small in-process hub: subscribe returns the unsubscribe; a listener that throws harms no other. */
export class EngineEvents {
  private readonly listeners = new Set<EngineEventListener>();

  subscribe(listener: EngineEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: EngineEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own (a closed stream, say); the others still hear the event.
      }
    }
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}
