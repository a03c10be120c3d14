/* A misbehaving plugin: never returns. The sandbox's time limit must stop it. */
int main(void) {
  volatile unsigned long n = 0;
  for (;;) n++;
}
