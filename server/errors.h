// Every error this server answers with, in one table: the stable machine-readable code a client
// sees in {"error":{"code","message"}}, its HTTP status, and the message it carries when the
// situation has nothing more specific to say. docs/api.md lists the same table for clients.
#pragma once

#include "common/error.h"

#include <array>
#include <boost/beast/http/status.hpp>
#include <cstddef>
#include <string_view>

namespace mixi::server {

/// The kinds of error answer; `http_errors` below has one row for each, in this order.
enum class ApiError {
    bad_request,
    unknown_parameter,
    missing_parameter,
    invalid_query,
    invalid_argument,
    invalid_input,
    unauthorized,
    forbidden,
    admin_disabled,
    not_found,
    unknown_document,
    method_not_allowed,
    body_too_large,
    uri_too_long,
    query_too_long,
    unsupported_media_type,
    rate_limited,
    headers_too_large,
    internal,
    io_error,
    index_locked,
    index_unavailable,
    read_only_copy,
    views_disabled,
    too_many_connections,
};

/// One row of the table.
struct HttpError {
    ApiError kind;
    std::string_view code;
    boost::beast::http::status status;
    std::string_view message; ///< the default message
};

namespace detail {
using status = boost::beast::http::status;
} // namespace detail

inline constexpr std::array http_errors = {
    HttpError{ApiError::bad_request, "bad_request", detail::status::bad_request,
              "malformed HTTP request"},
    HttpError{ApiError::unknown_parameter, "unknown_parameter", detail::status::bad_request,
              "a parameter this route does not take"},
    HttpError{ApiError::missing_parameter, "missing_parameter", detail::status::bad_request,
              "the q parameter is required"},
    HttpError{ApiError::invalid_query, "invalid_query", detail::status::bad_request,
              "the query cannot be searched"},
    HttpError{ApiError::invalid_argument, "invalid_argument", detail::status::bad_request,
              "a parameter has a value of the wrong form or out of range"},
    HttpError{ApiError::invalid_input, "invalid_input", detail::status::bad_request,
              "the input is malformed"},
    HttpError{ApiError::unauthorized, "unauthorized", detail::status::unauthorized,
              "the admin API needs Authorization: Bearer <admin key>"},
    HttpError{ApiError::forbidden, "forbidden", detail::status::forbidden,
              "this admin key is not valid"},
    HttpError{ApiError::admin_disabled, "admin_disabled", detail::status::forbidden,
              "no admin keys are configured on this server"},
    HttpError{ApiError::not_found, "not_found", detail::status::not_found, "no such page"},
    HttpError{ApiError::unknown_document, "unknown_document", detail::status::not_found,
              "no indexed document has this id or url"},
    HttpError{ApiError::method_not_allowed, "method_not_allowed",
              detail::status::method_not_allowed, "this method is not allowed here"},
    HttpError{ApiError::body_too_large, "body_too_large", detail::status::payload_too_large,
              "the request body is too large"},
    HttpError{ApiError::uri_too_long, "uri_too_long", detail::status::uri_too_long,
              "the request target is too long"},
    HttpError{ApiError::query_too_long, "query_too_long", detail::status::uri_too_long,
              "q is too long"},
    HttpError{ApiError::unsupported_media_type, "unsupported_media_type",
              detail::status::unsupported_media_type,
              "send the view as application/json or text/plain"},
    HttpError{ApiError::rate_limited, "rate_limited", detail::status::too_many_requests,
              "too many requests from this address; slow down"},
    HttpError{ApiError::headers_too_large, "headers_too_large",
              detail::status::request_header_fields_too_large, "the request headers are too large"},
    HttpError{ApiError::internal, "internal", detail::status::internal_server_error,
              "the server failed to answer this request"},
    HttpError{ApiError::io_error, "io_error", detail::status::internal_server_error,
              "the server failed to answer this request"},
    HttpError{ApiError::index_locked, "index_locked", detail::status::service_unavailable,
              "another process is writing the index; try again"},
    HttpError{ApiError::index_unavailable, "index_unavailable", detail::status::service_unavailable,
              "the search index is not available right now"},
    HttpError{ApiError::read_only_copy, "read_only_copy", detail::status::conflict,
              "this server searches a copy of the index (a replica or remote shards): delete "
              "documents where the index is written, with `mixi-search index delete --data` on "
              "the writer; every copy follows"},
    HttpError{ApiError::views_disabled, "views_disabled", detail::status::service_unavailable,
              "this server does not count page views"},
    HttpError{ApiError::too_many_connections, "too_many_connections",
              detail::status::service_unavailable, "the server has too many open connections"},
};

/// The row of `kind`.
constexpr const HttpError& http_error(ApiError kind) {
    return http_errors[static_cast<std::size_t>(kind)];
}

namespace detail {
constexpr bool rows_in_order() {
    for (std::size_t i = 0; i < http_errors.size(); ++i)
        if (static_cast<std::size_t>(http_errors[i].kind) != i)
            return false;
    return true;
}
} // namespace detail
static_assert(detail::rows_in_order(), "http_errors must list the ApiError kinds in order");
static_assert(http_errors.size() == static_cast<std::size_t>(ApiError::too_many_connections) + 1,
              "http_errors must have a row for every ApiError");

/// The answer to a library error: the kind of the same name.
constexpr ApiError api_error(ErrorCode code) {
    switch (code) {
    case ErrorCode::invalid_argument:
        return ApiError::invalid_argument;
    case ErrorCode::invalid_query:
        return ApiError::invalid_query;
    case ErrorCode::invalid_input:
        return ApiError::invalid_input;
    case ErrorCode::not_found:
        return ApiError::not_found;
    case ErrorCode::index_locked:
        return ApiError::index_locked;
    case ErrorCode::index_unavailable:
        return ApiError::index_unavailable;
    case ErrorCode::io_error:
        return ApiError::io_error;
    case ErrorCode::read_only_copy:
        return ApiError::read_only_copy;
    case ErrorCode::internal:
        break;
    }
    return ApiError::internal;
}

} // namespace mixi::server
