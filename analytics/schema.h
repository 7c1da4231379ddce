// The analytics store's tables, created and migrated by the program: a schema_version table
// holds the version a store is at, and every connection (Database::connect) brings the store up
// to this binary's, under the writers' lock, so that servers starting together migrate once.
// A store at a newer version than this binary knows is refused.
#pragma once

#include "analytics/database.h"
#include "common/error.h"

namespace mixi::analytics {

/// The schema version this binary writes.
inline constexpr std::int64_t schema_version = 2;

/// Creates the tables, or migrates them from an older version.
Expected<void> migrate(Database& db);

} // namespace mixi::analytics
