# A test case whose name holds ';' is split by CTest's list handling: the pieces become
# tests that select no test case, run nothing and pass. This check fails on such a name.
#   cmake -DTESTS_DIR=<tests/> -P check_test_names.cmake
file(GLOB_RECURSE sources "${TESTS_DIR}/*.cpp")
set(bad "")
foreach(f IN LISTS sources)
  file(STRINGS "${f}" lines REGEX "TEST_CASE\\(\"[^\"]*;")
  if(lines)
    string(APPEND bad "\n  ${f}")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "test case names with ';' (CTest would run none of them):${bad}")
endif()
message(STATUS "no test case name holds ';'")
