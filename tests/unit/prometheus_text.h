// Reading /metrics in tests: the value of one sample line of Prometheus text.
#pragma once

#include <sstream>
#include <string>

namespace mixi::testing {

/// The value of the sample line `name` (with its labels) in Prometheus text; -1 when absent.
inline double metric(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with(name + " "))
            return std::stod(line.substr(name.size() + 1));
    return -1;
}

} // namespace mixi::testing
