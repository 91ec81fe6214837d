/* xueshi tool: commands of the county admin's command-line tool. */
#ifndef TOOL_XUESHI_H
#define TOOL_XUESHI_H

/* Commands: each takes the words after its name and returns the process exit code. */
int tool_cmd_certify(int argc, char **argv);
int tool_cmd_verify(int argc, char **argv);

#endif
