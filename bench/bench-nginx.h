/*
 * bench-nginx.h: the beacon receiver of the network benchmarks (bench-fire,
 * bench-ssai): nginx on 127.0.0.1 answering /px/ with empty_gif (and its
 * stub_status at /status), in a temporary prefix removed at stop. One copy
 * for both benchmarks; each includes it once.
 */
#ifndef VASTRACK_BENCH_NGINX_H
#define VASTRACK_BENCH_NGINX_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];
static pid_t nginx_pid;

/* A port nothing listens on now (the kernel's choice), or -1. */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  close(fd);
  return ntohs(a.sin_port);
}

/* 1 when something accepts connections on 127.0.0.1:port. */
static int port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void stop_nginx(void) {
  if (nginx_pid > 0) {
    kill(nginx_pid, SIGTERM);
    waitpid(nginx_pid, NULL, 0);
    nginx_pid = 0;
  }
  if (dir[0]) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench: cannot remove %s\n", dir);
  }
}

/* Starts nginx on 127.0.0.1:port (and on 127.0.0.2-4:port, the other hosts of
   bench-ssai's tag); 0 once it accepts, -1 when it did not start. */
static int start_nginx(int port) {
  snprintf(dir, sizeof dir, "/tmp/vastrack-bench-nginx-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  char conf[512];
  snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
  FILE *f = fopen(conf, "w");
  if (!f) return -1;
  fprintf(f,
          "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
          "events { worker_connections 4096; }\n"
          "http {\n  access_log off;\n  keepalive_requests 1000000;\n"
          "  client_body_temp_path %s/cb; proxy_temp_path %s/pt; fastcgi_temp_path %s/ft;\n"
          "  uwsgi_temp_path %s/ut; scgi_temp_path %s/st;\n"
          "  server { listen 127.0.0.1:%d; listen 127.0.0.2:%d; listen 127.0.0.3:%d;\n"
          "    listen 127.0.0.4:%d; location /px/ { empty_gif; }\n"
          "    location = /status { stub_status; } }\n}\n",
          dir, dir, dir, dir, dir, dir, dir, port, port, port, port);
  fclose(f);
  nginx_pid = fork();
  if (nginx_pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    execlp("nginx", "nginx", "-p", dir, "-c", conf, (char *)NULL);
    execl("/usr/sbin/nginx", "nginx", "-p", dir, "-c", conf, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 100; i++) {
    if (port_open(port)) return 0;
    int st;
    if (waitpid(nginx_pid, &st, WNOHANG) == nginx_pid) {
      nginx_pid = 0;
      return -1;
    }
    usleep(20000);
  }
  return -1;
}

#endif
