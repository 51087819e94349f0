// What etcd and the Kubernetes API server send: endpoint values under etcd keys, list bodies
// and watch-stream lines of EndpointSlices and MeshConfig resources. The first byte chooses
// the consumer; a hostile or broken server must never crash the control plane.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/etcd_endpoints.h"
#include "config/k8s_objects.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> errors;
  std::string version, error, source;
  switch (data[0] % 3) {
    case 0: {
      am::config::etcd_endpoint_view view{"/actormesh/services/"};
      view.reset({{false, "/actormesh/services/api/1", text}}, errors);
      view.apply({{false, "/actormesh/services/" + text.substr(0, 20) + "/x", text}}, errors);
      view.table();
      break;
    }
    case 1: {
      am::config::k8s_object_set slices;
      slices.reset(text, version, error);
      slices.apply(text, version, error);
      am::config::endpoint_slices_table(slices, errors);
      break;
    }
    default: {
      am::config::k8s_object_set configs;
      configs.apply(text, version, error);
      std::vector<am::config::config_error> config_errors;
      am::config::mesh_config_document(configs, source, config_errors);
      break;
    }
  }
  return 0;
}
