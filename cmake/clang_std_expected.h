// Force-included in clang builds (top-level CMakeLists.txt) when <expected> would be empty:
// libstdc++ 12 offers std::expected only when __cpp_concepts >= 202002L, and clang before 19
// says 201907L although clang 16 implements what std::expected needs (P0848).
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wmacro-redefined"
#define __cpp_concepts 202002L
#pragma clang diagnostic pop
