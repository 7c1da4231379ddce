// Domain errors shared by the libraries. Libraries return expected failures as values; only the
// edges (cli/, server/) turn them into exit codes or HTTP statuses.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace mixi {

/// What went wrong, independent of how it is reported.
enum class ErrorCode {
    invalid_argument,  ///< a caller passed a value outside the accepted range
    invalid_query,     ///< the query cannot be searched (empty, too long, ...)
    invalid_input,     ///< a source record or file is malformed
    not_found,         ///< the named document, index or file does not exist
    index_locked,      ///< another writer holds the index lock
    index_unavailable, ///< the index cannot be opened or read
    io_error,          ///< reading or writing a file failed
    read_only_copy,    ///< the index is a copy (a replica, remote shards): write its primary
    internal,          ///< a bug or an unexpected library failure
};

/// The stable, machine-readable name of a code ("index_locked").
std::string_view to_string(ErrorCode code);

/// An error with a code and a message for people.
struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;
};

template <class T> using Expected = std::expected<T, Error>;

/// Shorthand for `std::unexpected(Error{code, message})`.
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
    return std::unexpected(Error{code, std::move(message)});
}

} // namespace mixi
