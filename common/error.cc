#include "common/error.h"

namespace mixi {

std::string_view to_string(ErrorCode code) {
    switch (code) {
    case ErrorCode::invalid_argument:
        return "invalid_argument";
    case ErrorCode::invalid_query:
        return "invalid_query";
    case ErrorCode::invalid_input:
        return "invalid_input";
    case ErrorCode::not_found:
        return "not_found";
    case ErrorCode::index_locked:
        return "index_locked";
    case ErrorCode::index_unavailable:
        return "index_unavailable";
    case ErrorCode::io_error:
        return "io_error";
    case ErrorCode::read_only_copy:
        return "read_only_copy";
    case ErrorCode::internal:
        return "internal";
    }
    return "internal";
}

} // namespace mixi
