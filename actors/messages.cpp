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
  cfg.add_message_type<net::endpoint_load_report>("am.endpoint_load_report");
  cfg.add_message_type<std::vector<net::endpoint_load_report>>("am.endpoint_load_report_list");
  cfg.add_message_type<net::service_load_report>("am.service_load_report");
  cfg.add_message_type<std::vector<net::service_load_report>>("am.service_load_report_list");
  cfg.add_message_type<net::load_report>("am.load_report");
  cfg.add_message_type<net::service_weights>("am.service_weights");
  cfg.add_message_type<std::vector<net::service_weights>>("am.service_weights_list");
  cfg.add_message_type<net::weight_table>("am.weight_table");
  cfg.add_message_type<config::exported_service>("am.exported_service");
  cfg.add_message_type<config::export_list>("am.export_list");
  cfg.add_message_type<config::pair_signals>("am.pair_signals");
  cfg.add_message_type<std::vector<config::pair_signals>>("am.pair_signals_list");
  cfg.add_message_type<config::service_health_signal>("am.service_health_signal");
  cfg.add_message_type<std::vector<config::service_health_signal>>("am.service_health_list");
  cfg.add_message_type<config::signals_report>("am.signals_report");
  cfg.add_message_type<config::tap_filter>("am.tap_filter");
  cfg.add_message_type<config::tap_event>("am.tap_event");
  cfg.add_message_type<std::vector<config::tap_event>>("am.tap_event_list");
  cfg.add_message_type<config::tap_events>("am.tap_events");
}

}  // namespace am::actors
