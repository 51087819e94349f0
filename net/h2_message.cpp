#include "net/h2_message.h"

#include <charconv>

namespace am::net {

namespace {

void set_field(message_head& head, std::string& name, std::string& value) {
  if (head.count == head.fields.size()) {
    head.fields.emplace_back();
  }
  auto& f = head.fields[head.count++];
  f.name.swap(name);
  f.value.swap(value);
}

}  // namespace

bool read_h2_head(std::span<h2_field> fields, bool end_stream, message_head& head,
                  std::string& error) {
  head.reset();
  head.version_minor = 1;
  bool is_request = false;
  bool has_authority = false;
  for (auto& f : fields) {
    if (f.name.empty() || f.name.front() != ':') {
      if (f.name == "content-length") {
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), n);
        if (ec != std::errc{} || end != f.value.data() + f.value.size()) {
          error = "content-length '" + f.value + "' is not a number";
          return false;
        }
        head.has_content_length = true;
        head.content_length = n;
        continue;  // framing is written by whoever serializes the head
      }
      if (f.name == "host" && has_authority) {
        continue;  // :authority wins (RFC 9113 §8.3.1); one Host goes upstream
      }
      set_field(head, f.name, f.value);
    } else if (f.name == ":method") {
      head.method = std::move(f.value);
      is_request = true;
    } else if (f.name == ":path") {
      head.target = std::move(f.value);
    } else if (f.name == ":authority") {
      has_authority = true;
      std::string host = "host";
      set_field(head, host, f.value);
    } else if (f.name == ":status") {
      int status = 0;
      std::from_chars(f.value.data(), f.value.data() + f.value.size(), status);
      head.status = status;
    }
  }
  if (is_request && head.method != "CONNECT" && head.target.empty()) {
    error = "request without :path";
    return false;
  }
  head.chunked = !end_stream && !head.has_content_length;
  return true;
}

void append_h2_fields(const message_head& head, h2_field_list& out) {
  const auto* connection = head.find("connection");
  for (size_t i = 0; i < head.count; ++i) {
    const auto& f = head.fields[i];
    if (is_hop_by_hop(connection, f.name)) {
      continue;
    }
    auto& o = out.add();
    assign_lower(o.name, f.name);
    o.value.assign(f.value);
  }
}

}  // namespace am::net
