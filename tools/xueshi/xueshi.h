/* xueshi tool: commands of the county admin's command-line tool. */
#ifndef TOOL_XUESHI_H
#define TOOL_XUESHI_H

/* xueshi certify: each returns the process exit code. */
int tool_cmd_certify(int argc, char **argv);

#endif
