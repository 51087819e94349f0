#include "net/http1_parser.h"

#include <cctype>
#include <charconv>
#include <cstring>

#include "config/syntax.h"

namespace am::net {

namespace {

http1_parser* self(http_parser* p) {
  return static_cast<http1_parser*>(p->data);
}

// A CR not followed by LF inside a message head. http-parser (non-strict) takes it as a line
// end; other parsers take it as part of a field, which is a request-smuggling vector.
bool has_bare_cr(std::string_view data) {
  auto end = data.find("\r\n\r\n");
  auto head = data.substr(0, end == std::string_view::npos ? data.size() : end);
  for (auto i = head.find('\r'); i != std::string_view::npos; i = head.find('\r', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] != '\n') {
      return true;
    }
  }
  return false;
}

}  // namespace

http1_parser::http1_parser(kind k, sink& s, size_t max_header_bytes)
    : kind_(k), sink_(s), max_header_bytes_(max_header_bytes) {
  http_parser_init(&parser_, k == kind::request ? HTTP_REQUEST : HTTP_RESPONSE);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = &http1_parser::on_message_begin;
  settings_.on_url = &http1_parser::on_url;
  settings_.on_status = &http1_parser::on_status;
  settings_.on_header_field = &http1_parser::on_header_field;
  settings_.on_header_value = &http1_parser::on_header_value;
  settings_.on_headers_complete = &http1_parser::on_headers_complete;
  settings_.on_body = &http1_parser::on_body;
  settings_.on_message_complete = &http1_parser::on_message_complete;
}

size_t http1_parser::feed(const char* data, size_t size) {
  if (error_ != parse_error::none || stopped_ || size == 0) {
    return 0;
  }
  if (!headers_done_ && has_bare_cr({data, size})) {
    fail(parse_error::malformed, "bare CR in the message head");
    return 0;
  }
  auto used = http_parser_execute(&parser_, &settings_, data, size);
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED) {
    return used;
  }
  if (error_ == parse_error::none && err != HPE_OK) {
    if (err == HPE_HEADER_OVERFLOW) {
      fail(parse_error::header_too_large, "header block too large");
    } else if (err == HPE_UNEXPECTED_CONTENT_LENGTH || err == HPE_INVALID_TRANSFER_ENCODING ||
               err == HPE_INVALID_CONTENT_LENGTH) {
      fail(parse_error::bad_framing, http_errno_description(err));
    } else {
      fail(parse_error::malformed, http_errno_description(err));
    }
  }
  return used;
}

void http1_parser::feed_eof() {
  if (error_ == parse_error::none && !stopped_) {
    http_parser_execute(&parser_, &settings_, nullptr, 0);
  }
}

void http1_parser::resume() {
  stopped_ = false;
  http_parser_pause(&parser_, 0);
}

void http1_parser::fail(parse_error e, std::string detail) {
  error_ = e;
  detail_ = std::move(detail);
}

bool http1_parser::add_head_bytes(size_t n) {
  head_bytes_ += n;
  if (head_bytes_ > max_header_bytes_) {
    fail(parse_error::header_too_large,
         "header block over " + std::to_string(max_header_bytes_) + " bytes");
    return false;
  }
  return true;
}

// http-parser, as Debian builds it, is lenient (HTTP_PARSER_STRICT=0): it takes any major
// version, HTTP/0.9 request lines and odd bytes in field names. A proxy must not forward what
// the next parser could read differently, so those are refused here.
bool http1_parser::check_syntax() {
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    fail(parse_error::malformed, "unsupported HTTP version");
    return false;
  }
  for (size_t i = 0; i < head_.count; ++i) {
    if (!config::is_http_token(head_.fields[i].name)) {
      fail(parse_error::malformed, "invalid header field name");
      return false;
    }
  }
  return true;
}

// RFC 9112 §6.1-6.3: a message with both framings, several differing lengths or a coding
// other than a final "chunked" is refused, because two parsers could read it differently.
bool http1_parser::check_framing() {
  const std::string* length = nullptr;
  bool has_transfer_encoding = false;
  for (size_t i = 0; i < head_.count; ++i) {
    const auto& f = head_.fields[i];
    if (iequals(f.name, "content-length")) {
      if (length != nullptr && *length != f.value) {
        fail(parse_error::bad_framing, "differing Content-Length values");
        return false;
      }
      length = &f.value;
    } else if (iequals(f.name, "transfer-encoding")) {
      if (has_transfer_encoding || !iequals(config::trim_ows(f.value), "chunked")) {
        fail(parse_error::bad_framing, "unsupported Transfer-Encoding '" + f.value + "'");
        return false;
      }
      has_transfer_encoding = true;
    }
  }
  if (length != nullptr && has_transfer_encoding) {
    fail(parse_error::bad_framing, "both Content-Length and Transfer-Encoding");
    return false;
  }
  head_.chunked = has_transfer_encoding;
  head_.has_content_length = length != nullptr;
  if (length != nullptr) {
    auto v = config::trim_ows(*length);
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), head_.content_length);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) {
      fail(parse_error::bad_framing, "invalid Content-Length");
      return false;
    }
  }
  return true;
}

// -- http-parser callbacks ---------------------------------------------------------------------

int http1_parser::on_message_begin(http_parser* p) {
  auto* s = self(p);
  s->head_.reset();
  s->head_bytes_ = 0;
  s->in_value_ = false;
  s->in_message_ = true;
  s->headers_done_ = false;
  return 0;
}

int http1_parser::on_url(http_parser* p, const char* at, size_t n) {
  auto* s = self(p);
  s->head_.target.append(at, n);
  return s->add_head_bytes(n) ? 0 : -1;
}

int http1_parser::on_status(http_parser* p, const char* at, size_t n) {
  auto* s = self(p);
  s->head_.reason.append(at, n);
  return s->add_head_bytes(n) ? 0 : -1;
}

int http1_parser::on_header_field(http_parser* p, const char* at, size_t n) {
  auto* s = self(p);
  if (s->headers_done_) {
    return 0;  // trailer fields are not forwarded
  }
  auto& h = s->head_;
  if (s->in_value_ || h.count == 0) {
    if (h.fields.size() == h.count) {
      h.fields.emplace_back();
    }
    h.fields[h.count].name.clear();
    h.fields[h.count].value.clear();
    ++h.count;
    s->in_value_ = false;
  }
  h.fields[h.count - 1].name.append(at, n);
  return s->add_head_bytes(n + 4) ? 0 : -1;
}

int http1_parser::on_header_value(http_parser* p, const char* at, size_t n) {
  auto* s = self(p);
  if (s->headers_done_) {
    return 0;
  }
  s->in_value_ = true;
  s->head_.fields[s->head_.count - 1].value.append(at, n);
  return s->add_head_bytes(n) ? 0 : -1;
}

int http1_parser::on_headers_complete(http_parser* p) {
  auto* s = self(p);
  s->headers_done_ = true;
  auto& h = s->head_;
  h.version_minor = p->http_minor;
  h.keep_alive = http_should_keep_alive(p) != 0;
  if (s->kind_ == kind::request) {
    h.method = http_method_str(static_cast<http_method>(p->method));
    h.upgrade = p->upgrade != 0 || p->method == HTTP_CONNECT;
  } else {
    h.status = static_cast<int>(p->status_code);
    h.upgrade = h.status == 101;
  }
  if (!s->check_syntax() || !s->check_framing()) {
    return -1;
  }
  return s->sink_.on_head(h) ? 1 : 0;
}

int http1_parser::on_body(http_parser* p, const char* at, size_t n) {
  self(p)->sink_.on_body(at, n);
  return 0;
}

int http1_parser::on_message_complete(http_parser* p) {
  auto* s = self(p);
  s->in_message_ = false;
  s->headers_done_ = false;  // the next message's head gets the head-only checks again
  s->stopped_ = true;
  // After a protocol switch http-parser returns by itself, just past the head; pausing here
  // would make it report one byte less.
  if (p->upgrade == 0) {
    http_parser_pause(p, 1);
  }
  s->sink_.on_message_complete();
  return 0;
}

}  // namespace am::net
