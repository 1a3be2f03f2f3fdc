#pragma once

// Answers of the supervisor API: protobuf's JSON mapping of proto/hub/v1
// (field names as in the .proto), with every time in milliseconds (a member
// `X_ms`) also given as ISO 8601 in the hub's zone (`X`, or `X_at` where the
// message has a member `X` already: `arrived`, `departed`); and failures as
// {"error": "..."} with the status of their ApiError.

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <google/protobuf/message.h>

#include "api/api_error.h"
#include "net/http_server.h"

namespace hub::api {

// What a query or an action gives: a message to render, or why not.
class Answer {
 public:
  Answer(Failure failure) : failure_(std::move(failure)) {}  // NOLINT: implicit by design
  template <typename M, typename = std::enable_if_t<std::is_base_of_v<google::protobuf::Message, M>>>
  Answer(M message) : body_(std::make_shared<M>(std::move(message))) {}  // NOLINT

  bool ok() const { return !failure_.has_value(); }
  const Failure& failure() const { return *failure_; }
  const google::protobuf::Message& body() const { return *body_; }

 private:
  std::shared_ptr<const google::protobuf::Message> body_;
  std::optional<Failure> failure_;
};

net::HttpResponse Render(const Answer& answer);
net::HttpResponse Render(const Failure& failure);
// One line of JSON (no newline), for a stream event.
std::string RenderLine(const google::protobuf::Message& m);

}  // namespace hub::api
