// HTTP/1.1 parsing with Node's http-parser (Debian's libhttp-parser), plus the checks a proxy
// needs on top of it: a header-size limit and the RFC 9112 §6 framing rules that close the
// request-smuggling holes (Content-Length with Transfer-Encoding, differing lengths, unknown
// codings). The parser stops after each message so that a pipelined request waits for the
// response of the one before it.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>

#include "net/http1_message.h"

namespace am::net {

// Why parsing failed; each value maps to one status and one error kind.
enum class parse_error {
  none,
  malformed,         // 400: bad request line, header or chunk syntax
  bad_framing,       // 400: ambiguous or unsupported message framing
  header_too_large,  // 431
};

class http1_parser {
 public:
  // Receives what the parser finds, in order: head, body pieces, completion.
  class sink {
   public:
    // Return true to parse no body (a response to HEAD).
    virtual bool on_head(message_head& head) = 0;
    virtual void on_body(const char* data, size_t size) = 0;
    virtual void on_message_complete() = 0;

   protected:
    ~sink() = default;
  };

  enum class kind { request, response };

  http1_parser(kind k, sink& s, size_t max_header_bytes);
  http1_parser(const http1_parser&) = delete;
  http1_parser& operator=(const http1_parser&) = delete;

  // Parses up to `size` bytes and returns how many it used. It uses fewer when it stops at
  // the end of a message (call resume() to go on), at a protocol switch or on an error.
  size_t feed(const char* data, size_t size);

  // Tells the parser that the peer closed the connection (ends a read-until-close body).
  void feed_eof();

  // Starts the next message after the parser stopped at the end of one.
  void resume();

  bool stopped_at_message_end() const { return stopped_; }
  bool in_message() const { return in_message_; }
  bool upgraded() const { return parser_.upgrade != 0; }
  parse_error error() const { return error_; }
  const std::string& error_detail() const { return detail_; }
  const message_head& head() const { return head_; }

 private:
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, size_t n);
  static int on_status(http_parser* p, const char* at, size_t n);
  static int on_header_field(http_parser* p, const char* at, size_t n);
  static int on_header_value(http_parser* p, const char* at, size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, size_t n);
  static int on_message_complete(http_parser* p);

  bool add_head_bytes(size_t n);
  bool check_syntax();
  bool check_framing();
  void fail(parse_error e, std::string detail);

  http_parser parser_{};
  http_parser_settings settings_{};
  kind kind_;
  sink& sink_;
  message_head head_;
  size_t max_header_bytes_;
  size_t head_bytes_ = 0;
  bool in_value_ = false;
  bool stopped_ = false;
  bool in_message_ = false;
  bool headers_done_ = false;
  parse_error error_ = parse_error::none;
  std::string detail_;
};

}  // namespace am::net
