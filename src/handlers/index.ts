/** Application handlers: requests, responses, services, interceptors, topic registry, RPC routing. */
export {
  RequestType,
  REQUEST_TYPES,
  ConnectRequest,
  RefreshRequest,
  SubscribeRequest,
  PublishRequest,
  RPCRequest,
  SubRefreshRequest,
  type AnyRequest,
  type ConnectionContext,
  type RequestMap,
  type ResponseMap,
} from './requests.js';
export {
  ConnectResponse,
  RefreshResponse,
  SubscribeResponse,
  PublishResponse,
  RPCResponse,
  SubRefreshResponse,
  type ConnectResponseFields,
  type ConnectSubscription,
  type ExpireAt,
  type PublishResponseFields,
  type RefreshResponseFields,
  type SubRefreshResponseFields,
  type SubscribeResponseFields,
} from './responses.js';
export {
  Handlers,
  DEFAULT_TIMEOUT_MS,
  type HandlersConfig,
  type Interceptor,
  type InterceptorMap,
  type Next,
  type Service,
  type ServiceMap,
} from './pipeline.js';
export {
  TopicRegistry,
  DEFAULT_SEGMENT,
  type TopicCallback,
  type TopicContext,
  type TopicMatch,
  type TopicParamNames,
  type TopicParams,
} from './topics.js';
export { topicSubscribeService } from './topic-subscribe.js';
export { RpcRouter, type FetchHandler, type RpcMethod } from './rpc-router.js';
export { HandlerCalls } from './calls.js';
export { DeciderChain, type EventCalls, type EventDeciders, type EventTarget } from './event-calls.js';
