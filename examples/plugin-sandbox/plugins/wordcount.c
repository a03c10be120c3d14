/* A plugin: counts the words of /work/input.txt and writes the count to /work/result.txt. */
#include <ctype.h>
#include <stdio.h>

int main(void) {
  FILE *in = fopen("/work/input.txt", "r");
  if (!in) {
    perror("wordcount: /work/input.txt");
    return 1;
  }
  long words = 0;
  int c, inword = 0;
  while ((c = fgetc(in)) != EOF) {
    if (isspace(c)) inword = 0;
    else if (!inword) {
      inword = 1;
      words++;
    }
  }
  fclose(in);
  FILE *out = fopen("/work/result.txt", "w");
  if (!out) {
    perror("wordcount: /work/result.txt");
    return 1;
  }
  fprintf(out, "%ld\n", words);
  fclose(out);
  return 0;
}
