# Writes a man page for one program from its --help (cmake -DPROGRAM=path -DNAME=parley-x -DSUMMARY=...
# -DOUT=file.1 -P man_page.cmake). The --help text is the documentation users already read, so the page
# cannot drift from it: NAME is the program and its summary, DESCRIPTION the text as it is, unfilled.
execute_process(COMMAND "${PROGRAM}" --help OUTPUT_VARIABLE help ERROR_VARIABLE help_err RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR help STREQUAL "")
  message(FATAL_ERROR "${PROGRAM} --help failed (${status}): ${help_err}")
endif()
# roff: a backslash is written \e, and a line that starts with . or ' would be read as a request.
string(REPLACE "\\" "\\e" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(TIMESTAMP today "%Y-%m-%d" UTC)
file(WRITE "${OUT}" ".TH ${NAME_UPPER} 1 \"${today}\" \"parley ${VERSION}\" \"Parley\"\n"
                    ".SH NAME\n${NAME} \\- ${SUMMARY}\n"
                    ".SH DESCRIPTION\n.nf\n${help}.fi\n"
                    ".SH SEE ALSO\n${SEE_ALSO}\n"
                    ".PP\nThe README of the source tree, and the specifications in spec/, say more.\n")
