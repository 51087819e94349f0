// HTTP/2 header blocks as the message heads the rest of the proxy works with, so routing,
// policies and the HTTP/1.1 codec see one shape whatever the protocol.
#pragma once

#include <string>

#include "net/h2_session.h"
#include "net/http1_message.h"

namespace am::net {

// Fills `head` from a request, response or trailer block: :method and :path become method
// and target, :authority a `host` field, :status the status; content-length sets the
// framing (no length and more to come: `chunked`, the body ends with the stream). False with
// `error` when a request lacks :method or :path, or a length is not a number.
bool read_h2_head(std::span<h2_field> fields, bool end_stream, message_head& head,
                  std::string& error);

// Appends `head`'s end-to-end fields to `out` with lower-case names (HTTP/2 requires them).
void append_h2_fields(const message_head& head, h2_field_list& out);

}  // namespace am::net
