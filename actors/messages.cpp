#include "actors/messages.h"

#include <caf/actor_system_config.hpp>

namespace am::actors {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<config::endpoint>("am.endpoint");
  cfg.add_message_type<std::vector<config::endpoint>>("am.endpoint_list");
  cfg.add_message_type<config::endpoint_table>("am.endpoint_table");
}

}  // namespace am::actors
