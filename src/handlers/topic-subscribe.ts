/** A ready-made subscribe service that authorizes channels through a {@link TopicRegistry}. */
import { Errors } from '../protocol/codes.js';
import type { SubscribeRequest } from './requests.js';
import { SubscribeResponse } from './responses.js';
import type { TopicRegistry } from './topics.js';

/**
 * Allows a subscription when a registered pattern matches the channel and its callback says yes;
 * otherwise answers error 103 "permission denied".
 *
 * @param userOf where the user id comes from (default: the connection's user; an interceptor may
 *   have put it into an attribute instead)
 */
export function topicSubscribeService(
  topics: TopicRegistry<SubscribeRequest>,
  userOf: (request: SubscribeRequest) => string = (r) => r.user,
): (request: SubscribeRequest) => Promise<void> {
  return async (request) => {
    if (await topics.authorize(request.channel, userOf(request), request)) {
      request.respond(new SubscribeResponse());
    } else {
      request.error(Errors.permissionDenied.code, Errors.permissionDenied.message);
    }
  };
}
