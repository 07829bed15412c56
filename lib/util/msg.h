/*
 * NAME
 *	msg - logging in Postfix's line format
 * SYNOPSIS
 *	void msg_init(const char *syslog_name, const char *prog);
 *	const char *msg_prog(void);
 *	void msg_to_stderr(int on);
 *	void msg_stderr_command_style(int on);
 *	void msg_to_syslog(const char *facility);
 *	void msg_to_file(const char *path);
 *	void msg_to_fd(int fd);
 *	void msg_tag(const char *tag);
 *	void msg_cleanup(void (*hook)(void));
 *
 *	void msg_info(const char *fmt, ...);
 *	void msg_warn(const char *fmt, ...);
 *	void msg_error(const char *fmt, ...);
 *	void msg_fatal(const char *fmt, ...);	(exits 1)
 *	void msg_fatal_status(int status, const char *fmt, ...);
 *	void msg_panic(const char *fmt, ...);	(aborts)
 *	void msg_vprintf(int level, const char *fmt, va_list ap);
 *	extern int msg_verbose;
 * DESCRIPTION
 *	Every line is "Mon DD HH:MM:SS host syslog_name/prog[pid]: text",
 *	with "warning: ", "error: ", "fatal: " or "panic: " before the
 *	text for those levels, as Postfix writes them. Lines go to any of:
 *	stderr (msg_to_stderr, for -d and for commands: there the line is
 *	"syslog_name/prog[pid]: text", or "prog: text" as Postfix's
 *	commands print after msg_stderr_command_style(1)), syslog, a log
 *	file (maillog_file; opened in append mode, one write(2) per line
 *	so processes can share it), or an inherited descriptor. CR and LF
 *	in the text are written as spaces, so one call is one line.
 *	msg_prog() returns the prog name given to msg_init().
 *
 *	msg_vprintf() writes one line at level MSG_INFO, MSG_WARN,
 *	MSG_ERROR, MSG_FATAL or MSG_PANIC and returns (the exit or abort
 *	is the caller's).
 *
 *	msg_tag() replaces "syslog_name/prog" in the lines by a tag of the
 *	caller's choice (postlog -t); an empty tag goes back to the
 *	default. Call it after choosing the destinations.
 *
 *	msg_fatal_status() exits with a given status (postmap uses 1,
 *	postqueue 69 and 75 as Postfix does).
 *
 *	A cleanup hook set with msg_cleanup() runs once before a fatal
 *	exit (for example to remove a half-written queue file).
 * SEE ALSO
 *	syslog(3)
 */
#ifndef MSG_H
#define MSG_H
#include <stdarg.h>

extern int msg_verbose;

extern void msg_init(const char *, const char *);
extern const char *msg_prog(void);
extern void msg_to_stderr(int);
extern void msg_stderr_command_style(int);
extern void msg_to_syslog(const char *);
extern void msg_to_file(const char *);
extern void msg_to_fd(int);
extern void msg_tag(const char *);
extern void msg_cleanup(void (*)(void));

extern void msg_info(const char *, ...) __attribute__((format(printf, 1, 2)));
extern void msg_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
extern void msg_error(const char *, ...) __attribute__((format(printf, 1, 2)));
extern void msg_fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
extern void msg_fatal_status(int, const char *, ...) __attribute__((format(printf, 2, 3), noreturn));
extern void msg_panic(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
extern void msg_vprintf(int level, const char *, va_list);

#define MSG_INFO	0
#define MSG_WARN	1
#define MSG_ERROR	2
#define MSG_FATAL	3
#define MSG_PANIC	4

#endif
