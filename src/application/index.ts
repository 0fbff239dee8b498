// twisted-ts/application: services, network services, strports and the twist plugin contract.

export {
  backoffPolicy,
  ClientService,
  type RetryPolicy,
  StreamServerEndpointService,
  strports,
  TimerService,
} from "./_internet.js";
export {
  type IServiceMaker,
  type PluginContext,
  type PluginOption,
  type PluginOptions,
  UsageError,
} from "./_plugin.js";
export {
  Application,
  type IService,
  type IServiceCollection,
  MultiService,
  Service,
} from "./_service.js";
