#include "net/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

#include "net/h2_memory.h"

namespace am::net {

namespace {

constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace

struct h2_session::nv_array {
  std::vector<nghttp2_nv> nv;
};

h2_session::nv_array& h2_session::to_nv(std::span<const h2_field> fields) {
  auto& nv = nv_->nv;
  nv.clear();
  for (const auto& f : fields) {
    nv.push_back(
        {reinterpret_cast<uint8_t*>(const_cast<char*>(f.name.data())),
         reinterpret_cast<uint8_t*>(const_cast<char*>(f.value.data())), f.name.size(),
         f.value.size(),
         static_cast<uint8_t>(f.no_index ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE)});
  }
  return *nv_;
}

// nghttp2's C callbacks, forwarding to the session (user_data).
struct h2_session::callbacks {
  static h2_session& self(void* user_data) { return *static_cast<h2_session*>(user_data); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto& s = self(user_data);
    s.incoming_.clear();
    s.incoming_bytes_ = 0;
    s.incoming_too_large_ = false;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      ++s.open_;  // a stream the peer opened
    }
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame*, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
    auto& s = self(user_data);
    // Counted decoded: a few bytes of HPACK references can stand for a huge list.
    s.incoming_bytes_ += namelen + valuelen + 32;
    if (s.incoming_too_large_ || s.incoming_bytes_ > s.max_header_list_bytes_) {
      s.incoming_too_large_ = true;
      s.incoming_.clear();  // memory stays bounded; decoding goes on to keep HPACK in step
      return 0;
    }
    auto& f = s.incoming_.add();
    f.name.assign(reinterpret_cast<const char*>(name), namelen);
    f.value.assign(reinterpret_cast<const char*>(value), valuelen);
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto& s = self(user_data);
    if (s.calmed_) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;  // terminated: the rest of the input is not read
    }
    bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type != NGHTTP2_DATA || frame->hd.length != 0 || end) {
      s.empty_frames_ = 0;
    }
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (s.incoming_too_large_) {
          s.events_.on_h2_headers_too_large(frame->hd.stream_id, end);
        } else {
          s.events_.on_h2_headers(frame->hd.stream_id, s.incoming_.view(), end);
        }
        s.incoming_.clear();
        break;
      case NGHTTP2_DATA:
        if (end) {
          s.events_.on_h2_end(frame->hd.stream_id);
        } else if (frame->hd.length == 0 && ++s.empty_frames_ > s.max_empty_frames_) {
          // Empty frames cost us work and the peer nothing (Envoy's
          // max_consecutive_inbound_frames_with_empty_payload): the connection ends.
          s.calmed_ = true;
          s.events_.on_h2_flood("empty DATA frames");
          nghttp2_session_terminate_session(s.session_, NGHTTP2_ENHANCE_YOUR_CALM);
          // Stop reading now: nghttp2 would go on with the frames after this one in the same
          // input, and a frame-size error among them trips its assertion that a terminated
          // session reads nothing more (found by the h2 fuzz target).
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        break;
      case NGHTTP2_GOAWAY:
        s.events_.on_h2_goaway(frame->goaway.last_stream_id, frame->goaway.error_code);
        break;
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
          s.peer_settings_ = true;
        }
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data,
                           size_t len, void* user_data) {
    self(user_data).events_.on_h2_data(stream, reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, int32_t stream, uint32_t error_code,
                             void* user_data) {
    auto& s = self(user_data);
    if (auto* o = static_cast<outgoing*>(nghttp2_session_get_stream_user_data(session, stream))) {
      nghttp2_session_set_stream_user_data(session, stream, nullptr);
      s.release_outgoing(o);
    }
    --s.open_;
    s.events_.on_h2_closed(stream, error_code);
    return 0;
  }

  // Pulls queued body bytes of one stream; defers when none are queued yet.
  static ssize_t read_data(nghttp2_session* session, int32_t stream, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source* source, void* user_data) {
    auto* o = static_cast<outgoing*>(source->ptr);
    if (o == nullptr) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    size_t n = std::min(length, o->data.size() - o->offset);
    std::memcpy(buf, o->data.data() + o->offset, n);
    o->offset += n;
    if (o->offset == o->data.size()) {
      o->data.clear();
      o->offset = 0;
      if (!o->end) {
        if (n == 0) {
          o->deferred = true;
          return NGHTTP2_ERR_DEFERRED;
        }
        return static_cast<ssize_t>(n);
      }
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!o->trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        auto& nv = self(user_data).to_nv(o->trailers.view()).nv;
        nghttp2_submit_trailer(session, stream, nv.data(), nv.size());
      }
    }
    return static_cast<ssize_t>(n);
  }
};

h2_session::h2_session(role r, h2_events& events, settings s)
    : events_(events),
      role_(r),
      max_header_list_bytes_(s.max_header_list_bytes),
      max_empty_frames_(s.max_empty_frames),
      nv_(std::make_unique<nv_array>()) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &callbacks::on_stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // Windows reopen when the owner forwarded the bytes (consume()), not when they arrive.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // No RFC 7540 priority tree: closed streams are dropped at once (RFC 9218 deprecates it,
  // and keeping the tree costs more than a proxy's short streams are worth).
  nghttp2_option_set_no_closed_streams(opt, 1);
  // A header list over max_header_bytes is answered 431 on its stream (its fields dropped as
  // they are decoded), so more CONTINUATION frames than nghttp2's 8 may come; still bounded:
  // a block many times over the limit ends the connection.
  nghttp2_option_set_max_continuations(
      opt, std::max<size_t>(8, size_t{8} * s.max_header_list_bytes / 16384));
  if (r == role::server) {
    nghttp2_session_server_new3(&session_, cbs, this, opt, h2_memory());
  } else {
    nghttp2_session_client_new3(&session_, cbs, this, opt, h2_memory());
  }
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.initial_window},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, s.max_header_list_bytes},
      // Large header blocks come in few frames (see max_continuations above).
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 64 * 1024},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, std::size(iv));
  // The connection's window: enough for many streams at their full window at once.
  nghttp2_session_set_local_window_size(
      session_, NGHTTP2_FLAG_NONE, 0,
      static_cast<int32_t>(std::min<uint64_t>(uint64_t{s.initial_window} * 16, 0x7fffffff)));
}

h2_session::~h2_session() {
  nghttp2_session_del(session_);
}

bool h2_session::feed(const char* data, size_t size) {
  if (calmed_) {
    return false;  // ended for a flood: nothing more is read
  }
  auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), size);
  if (n >= 0 && static_cast<size_t>(n) == size) {
    return true;
  }
  if (calmed_) {
    return false;  // a callback ended the session (ENHANCE_YOUR_CALM is queued)
  }
  // A fatal error: nghttp2 does not always queue a GOAWAY for it; the peer learns why.
  bool flood = n == NGHTTP2_ERR_FLOODED || n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
  if (flood && !calmed_) {
    calmed_ = true;
    events_.on_h2_flood(n == NGHTTP2_ERR_FLOODED ? "frames queued unread (SETTINGS, PING)"
                                                 : "CONTINUATION frames");
  }
  nghttp2_session_terminate_session(session_,
                                    flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
  return false;
}

template <class Out>
bool h2_session::output_into(Out& out, size_t limit) {
  bool any = false;
  size_t start = out.size();
  while (out.size() - start < limit) {
    const uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) {
      break;
    }
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    any = true;
  }
  if (!unopened_.empty()) {  // streams whose HEADERS just went out now hold their buffer
    std::erase_if(unopened_, [this](const auto& u) {
      return nghttp2_session_get_stream_user_data(session_, u.first) != nullptr;
    });
  }
  return any;
}

bool h2_session::output(std::string& out, size_t limit) {
  return output_into(out, limit);
}

bool h2_session::output(byte_buffer& out, size_t limit) {
  return output_into(out, limit);
}

bool h2_session::alive() const {
  return nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0;
}

h2_session::outgoing* h2_session::outgoing_of(int32_t stream) const {
  if (auto* o = static_cast<outgoing*>(nghttp2_session_get_stream_user_data(session_, stream))) {
    return o;
  }
  for (const auto& [id, o] : unopened_) {
    if (id == stream) {
      return o;
    }
  }
  return nullptr;
}

h2_session::outgoing* h2_session::take_outgoing() {
  if (free_outgoing_.empty()) {
    outgoing_.push_back(std::make_unique<outgoing>());
    return outgoing_.back().get();
  }
  auto* o = free_outgoing_.back();
  free_outgoing_.pop_back();
  return o;
}

void h2_session::release_outgoing(outgoing* o) {
  o->data.clear();
  o->offset = 0;
  o->end = false;
  o->deferred = false;
  o->trailers.clear();
  free_outgoing_.push_back(o);
}

int32_t h2_session::submit_request(std::span<const h2_field> headers, bool end_stream) {
  auto& nv = to_nv(headers).nv;
  nghttp2_data_provider provider{};
  provider.read_callback = &callbacks::read_data;
  outgoing* o = nullptr;
  if (!end_stream) {
    o = take_outgoing();
    provider.source.ptr = o;  // the body follows: read_data defers until it comes
  }
  auto id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(),
                                   end_stream ? nullptr : &provider, o);
  if (id > 0) {
    ++open_;
    if (o != nullptr) {
      unopened_.emplace_back(id, o);
    }
  } else if (o != nullptr) {
    release_outgoing(o);
  }
  return id;
}

bool h2_session::submit_response(int32_t stream, std::span<const h2_field> headers,
                                 bool end_stream) {
  auto& nv = to_nv(headers).nv;
  bool interim = !headers.empty() && headers.front().name == ":status" &&
                 headers.front().value.size() == 3 && headers.front().value[0] == '1';
  if (interim) {
    return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream, nullptr, nv.data(),
                                  nv.size(), nullptr) == 0;
  }
  nghttp2_data_provider provider{};
  provider.read_callback = &callbacks::read_data;
  if (!end_stream) {
    // The body follows: read_data defers until it comes.
    auto* o = outgoing_of(stream);
    if (o == nullptr) {
      o = take_outgoing();
      nghttp2_session_set_stream_user_data(session_, stream, o);
    }
    provider.source.ptr = o;
  }
  return nghttp2_submit_response(session_, stream, nv.data(), nv.size(),
                                 end_stream ? nullptr : &provider) == 0;
}

void h2_session::send_data(int32_t stream, std::string_view data) {
  if (auto* o = outgoing_of(stream)) {
    o->data.append(data);
    resume(*o, stream);
  }
}

void h2_session::end_stream(int32_t stream, std::span<const h2_field> trailers) {
  if (auto* o = outgoing_of(stream)) {
    o->end = true;
    for (const auto& t : trailers) {
      o->trailers.add(t.name, t.value);
    }
    resume(*o, stream);
  }
}

void h2_session::resume(outgoing& o, int32_t stream) {
  if (o.deferred) {
    o.deferred = false;
    nghttp2_session_resume_data(session_, stream);
  }
}

size_t h2_session::buffered(int32_t stream) const {
  auto* o = outgoing_of(stream);
  return o == nullptr ? 0 : o->data.size() - o->offset;
}

void h2_session::consume(int32_t stream, size_t size) {
  nghttp2_session_consume(session_, stream, size);
}

void h2_session::reset(int32_t stream, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error_code);
}

void h2_session::shutdown_notice() {
  if (role_ == role::server) {
    nghttp2_submit_shutdown_notice(session_);
  }
}

void h2_session::goaway(uint32_t error_code) {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), error_code, nullptr, 0);
}

uint32_t h2_session::peer_max_concurrent_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

size_t h2_session::open_streams() const {
  return open_;
}

bool h2_session::matches_preface(std::string_view prefix, bool& complete) {
  auto n = std::min(prefix.size(), preface.size());
  complete = n == preface.size();
  return prefix.substr(0, n) == preface.substr(0, n);
}

}  // namespace am::net
