# otelrr_write_if_changed(FILE CONTENT): writes CONTENT to FILE only when it differs from what FILE holds, so
# that a generated source that did not change recompiles nothing. Included by the Embed*.cmake scripts.
function(otelrr_write_if_changed file content)
  if(EXISTS "${file}")
    file(READ "${file}" previous)
    if(previous STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${file}" "${content}")
endfunction()
