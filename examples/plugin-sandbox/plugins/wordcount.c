/* A plugin: counts the words of /io/input.txt and writes the count to /io/result.txt. */
#include <ctype.h>
#include <stdio.h>

int main(void) {
  FILE *in = fopen("/io/input.txt", "r");
  if (!in) {
    perror("wordcount: /io/input.txt");
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
  FILE *out = fopen("/io/result.txt", "w");
  if (!out) {
    perror("wordcount: /io/result.txt");
    return 1;
  }
  fprintf(out, "%ld\n", words);
  fclose(out);
  return 0;
}
