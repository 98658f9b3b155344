# Refuses, at configure time, an #include that runs against the layers:
#
#   util  <-  store  <-  store/sqlite, store/postgres   (only app sees these)
#                    <-  auth  <-  api  <-  http  <-  app
#
# A layer may include its own headers and those of the layers it lists below; a file of
# src/L or include/threadsd/L belongs to layer L. SQLite's and libpq's own headers may
# appear only in their store's folder. Every violation is listed, then configuring stops.

# Layers each layer may include, itself included.
set(THREADSD_LAYER_util util)
set(THREADSD_LAYER_store util store)
set(THREADSD_LAYER_store/sqlite util store store/sqlite)
set(THREADSD_LAYER_store/postgres util store store/postgres)
set(THREADSD_LAYER_auth util store auth)
set(THREADSD_LAYER_api util store auth api)
set(THREADSD_LAYER_http util store auth api http)
set(THREADSD_LAYER_app util store store/sqlite store/postgres auth api http app)

# The layer of a path below src/ or include/threadsd/ ("store/sqlite/writer.cpp" ->
# "store/sqlite"), in `out`.
function(threadsd_layer_of relative out)
    if(relative MATCHES "^store/(sqlite|postgres)/")
        set(${out} "store/${CMAKE_MATCH_1}" PARENT_SCOPE)
    elseif(relative MATCHES "^([a-z_]+)/")
        set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
    else()
        set(${out} "" PARENT_SCOPE)
    endif()
endfunction()

function(threadsd_check_layers root)
    file(GLOB_RECURSE sources CONFIGURE_DEPENDS
         ${root}/src/*.cpp ${root}/src/*.hpp ${root}/include/threadsd/*.hpp)
    set(violations "")
    foreach(file IN LISTS sources)
        file(RELATIVE_PATH relative ${root} ${file})
        string(REGEX REPLACE "^(src|include/threadsd)/" "" in_layer "${relative}")
        threadsd_layer_of("${in_layer}" layer)
        if(layer STREQUAL "" OR NOT DEFINED THREADSD_LAYER_${layer})
            continue()  # src/main.cpp wires everything
        endif()
        set(allowed ${THREADSD_LAYER_${layer}})
        file(STRINGS ${file} includes REGEX "^#include [\"<]")
        foreach(line IN LISTS includes)
            if(line MATCHES "^#include \"threadsd/([^\"]+)\"")
                threadsd_layer_of("${CMAKE_MATCH_1}" target)
                if(NOT target IN_LIST allowed)
                    list(APPEND violations "${relative} (layer ${layer}) includes ${line}")
                endif()
            elseif(line MATCHES "^#include <(sqlite3|libpq-fe|libpq/[a-z-]+)\\.h>")
                set(library_layer store/sqlite)
                if(NOT CMAKE_MATCH_1 STREQUAL "sqlite3")
                    set(library_layer store/postgres)
                endif()
                if(NOT layer STREQUAL library_layer)
                    list(APPEND violations "${relative} (layer ${layer}) includes ${line}")
                endif()
            endif()
        endforeach()
    endforeach()
    if(violations)
        list(JOIN violations "\n  " listed)
        message(FATAL_ERROR "includes against the layers (cmake/check_layers.cmake):\n  ${listed}")
    endif()
endfunction()
