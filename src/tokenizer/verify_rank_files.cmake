# Checks every file listed in data/SHA256SUMS against its sha256 and fails with a clear message on
# a mismatch. Included at configure time (sets SLUICE_RANK_SHA256_<name>), and run with
# `cmake -DSLUICE_DATA_DIR=... -DSLUICE_STAMP=... -P` at build time whenever a rank file changes.
if(NOT SLUICE_DATA_DIR)
  message(FATAL_ERROR "verify_rank_files.cmake: SLUICE_DATA_DIR is not set")
endif()
file(STRINGS "${SLUICE_DATA_DIR}/SHA256SUMS" _sluice_sum_lines)
foreach(_line IN LISTS _sluice_sum_lines)
  if(NOT _line MATCHES "^([0-9a-f]+)  (.+)$")
    message(FATAL_ERROR "${SLUICE_DATA_DIR}/SHA256SUMS: cannot parse line: ${_line}")
  endif()
  set(_expected "${CMAKE_MATCH_1}")
  set(_name "${CMAKE_MATCH_2}")
  if(NOT EXISTS "${SLUICE_DATA_DIR}/${_name}")
    message(FATAL_ERROR "tokenizer rank file ${SLUICE_DATA_DIR}/${_name} is missing")
  endif()
  file(SHA256 "${SLUICE_DATA_DIR}/${_name}" _actual)
  if(NOT _actual STREQUAL _expected)
    message(FATAL_ERROR
      "tokenizer rank file ${SLUICE_DATA_DIR}/${_name} has sha256 ${_actual}, "
      "but data/SHA256SUMS expects ${_expected}. Restore the official file "
      "(see data/ and docs/tokenizer.md); token counts would be wrong with it.")
  endif()
  string(REGEX REPLACE "\\.tiktoken$" "" _stem "${_name}")
  set(SLUICE_RANK_SHA256_${_stem} "${_actual}")
endforeach()
if(SLUICE_STAMP)
  file(WRITE "${SLUICE_STAMP}" "verified\n")
endif()
