// Topic messages between daemons over the store's libp2p node (gossipsub): small signed envelopes
// that name content by CID; the content itself travels over bitswap. A message carries no
// authority of its own: the chain decides round state, and receivers check every message against it.
import type { GossipSub, Message } from "@libp2p/gossipsub";
import { DsainError, ErrorCode } from "../../errors.js";

/**
 * Largest message published or accepted, in bytes. gossipsub drops anything above 4 MiB without a
 * word (docs/design/daemons-recon.md §6, trap 4); protocol messages are a few kilobytes, so the
 * cap sits far below that and an oversized message is refused by name on both sides.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface TopicMessage {
  topic: string;
  /** The libp2p peer id that signed the envelope (gossipsub's StrictSign); "" if unsigned. */
  from: string;
  data: Uint8Array;
}

export interface PublishOptions {
  /**
   * Wait up to this long for at least one peer subscribed to the topic before publishing; a
   * message published with nobody listening is lost (gossipsub does not store it). Default 0.
   */
  waitForPeersMs?: number;
  signal?: AbortSignal;
}

export interface TopicChannel {
  /** Starts listening to `topic` (idempotent) and calls `handler` for each message; returns an unsubscribe. */
  subscribe(topic: string, handler: (message: TopicMessage) => void): () => void;
  /** Publishes to every subscribed peer; returns how many peers it was sent to (0: nobody heard it). */
  publish(topic: string, data: Uint8Array, options?: PublishOptions): Promise<number>;
  /** Peers known to be subscribed to `topic`. */
  subscribers(topic: string): string[];
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

export function topicChannel(pubsub: GossipSub, onOversized: (from: string, topic: string, bytes: number) => void): TopicChannel {
  const handlers = new Map<string, Set<(message: TopicMessage) => void>>();
  pubsub.addEventListener("message", (event: CustomEvent<Message>) => {
    const message = event.detail;
    const listeners = handlers.get(message.topic);
    if (listeners === undefined) return;
    const from = message.type === "signed" ? message.from.toString() : "";
    if (message.data.length > MAX_MESSAGE_BYTES) {
      onOversized(from, message.topic, message.data.length);
      return;
    }
    for (const handler of listeners) handler({ topic: message.topic, from, data: message.data });
  });

  return {
    subscribe(topic, handler) {
      let listeners = handlers.get(topic);
      if (listeners === undefined) {
        listeners = new Set();
        handlers.set(topic, listeners);
        pubsub.subscribe(topic);
      }
      listeners.add(handler);
      return () => {
        const set = handlers.get(topic);
        if (set === undefined) return;
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(topic);
          pubsub.unsubscribe(topic);
        }
      };
    },

    async publish(topic, data, options = {}) {
      if (data.length > MAX_MESSAGE_BYTES) {
        throw new DsainError(
          ErrorCode.CONTENT_TOO_LARGE,
          `a ${data.length}-byte message on ${topic} is above the ${MAX_MESSAGE_BYTES}-byte message limit; publish the content to the store and send its CID`,
        );
      }
      const deadline = Date.now() + (options.waitForPeersMs ?? 0);
      while (pubsub.getSubscribers(topic).length === 0 && Date.now() < deadline) await sleep(20, options.signal);
      const result = await pubsub.publish(topic, data);
      return result.recipients.length;
    },

    subscribers(topic) {
      return pubsub.getSubscribers(topic).map((peer) => peer.toString());
    },
  };
}
