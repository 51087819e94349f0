#include "actors/messages.h"

#include <caf/actor_system_config.hpp>

namespace am::actors {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<config::endpoint>("am.endpoint");
  cfg.add_message_type<std::vector<config::endpoint>>("am.endpoint_list");
  cfg.add_message_type<config::endpoint_table>("am.endpoint_table");
  cfg.add_message_type<config_revision>("am.config_revision");
  cfg.add_message_type<std::vector<config_revision>>("am.config_revision_list");
  cfg.add_message_type<apply_outcome>("am.apply_outcome");
  cfg.add_message_type<sidecar_status>("am.sidecar_status");
  cfg.add_message_type<std::vector<sidecar_status>>("am.sidecar_status_list");
}

}  // namespace am::actors
