// A vector that keeps its first N items inside itself (Boost.Container's small_vector: the one
// place baton names it), for lists that are nearly always short and exist by the hundred
// thousand: a Marathon task's endpoints (one per service port, nearly always one) and its health
// check results. As std::vector each was an allocation of its own, per task and per resync, and
// a free on the reclaimer.
#pragma once

#include <cstddef>

#include <boost/container/small_vector.hpp>

namespace baton::core {

template <typename T, std::size_t N>
using InlineVector = boost::container::small_vector<T, N>;

}  // namespace baton::core
