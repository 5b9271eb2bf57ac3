#!/usr/bin/perl
# mailsweep lab: a relay that accepts TCP on ADDR:PORT and never answers. Daemonises, writes PIDFILE.
# Installed in each root as /usr/local/sbin/lab-stall-relay by `lab busy HOST on` (lib/busy.sh).
use strict; use warnings; use IO::Socket::INET; use IO::Select; use POSIX ();
my ($addr, $port, $pidfile) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Listen => 128, ReuseAddr => 1, Proto => 'tcp')
  or die "lab-stall-relay: listen $addr:$port: $!\n";
my $pid = fork() // die "fork: $!\n";
exit 0 if $pid;
POSIX::setsid();
open STDIN, '<', '/dev/null'; open STDOUT, '>', '/dev/null'; open STDERR, '>', '/dev/null';
open my $f, '>', "$pidfile.tmp" or die; print $f "$$\n"; close $f; rename "$pidfile.tmp", $pidfile;
my $sel = IO::Select->new($s);
while (1) {
  for my $h ($sel->can_read) {
    if ($h == $s) { my $c = $s->accept; $sel->add($c) if $c; next; }
    # Read and drop what the client sends; forget it when it hangs up. Never write.
    my $n = sysread($h, my $buf, 4096);
    if (!$n) { $sel->remove($h); close $h; }
  }
}
