package Test::Nginx::Socket;

# A small re-implementation of the subset of Test::Nginx::Socket (CPAN,
# openresty/test-nginx) that this project uses, so that t/*.t files run here
# without CPAN and stay runnable under the real module.  Differences from
# the real one are listed in the POD at the end of this file.
#
# NOTE: "use Test::Base -Base" enables Spiffy's source filter, which inserts
# "my $self = shift;" into every named sub declared without a prototype.
# That is why every named sub below has one.

use v5.10.1;
use Test::Base -Base;
use strict;
use warnings;

our $VERSION = '0.30_local';

use Errno ();
use Fcntl qw(SEEK_SET);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use File::Temp ();
use IO::Handle ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle max);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test repeat_each config_preamble
    worker_connections master_process_enabled master_on master_off
    no_long_string workers log_level no_shuffle no_root_location
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout add_block_preprocessor bail_out
    add_cleanup_handler
);

# ---------------------------------------------------------------- settings

our $RepeatEach        = 1;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoRootLocation    = 0;
our $Workers           = 1;
our $WorkerConnections = 64;
our $MasterProcess     = 'on';
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $NoLongString      = 0;
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $ConfigPreamble    = '';
our $ServerName        = 'localhost';
our $ServerAddr        = '127.0.0.1';
our $UseValgrind       = $ENV{TEST_NGINX_USE_VALGRIND};
our $NoClean           = $ENV{TEST_NGINX_NO_CLEAN};
our $Keep              = $ENV{TEST_NGINX_KEEP};
our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers);

# Lines that fail every block (unless its --- error_log expects them).
our $SanitizerRe = qr/ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|\bAssertion .*failed/;
our $ValgrindErrRe = qr/^(?:Invalid (?:read|write|free)|Conditional jump or move depends on uninitialised|Syscall param .* uninitialised|Mismatched free|Use of uninitialised value|Source and destination overlap|.* are definitely lost in loss record)/;

# Exit-time leaks of stock nginx in single-process (valgrind) mode; nginx
# never frees these.  The obj: entry is for stripped binaries, where
# ngx_event_process_init shows up as "???".  TEST_NGINX_VALGRIND_STOCK_SUPP=0
# turns these suppressions off.
our @StockLeaks = (['fun:ngx_set_environment'], ['fun:ngx_event_process_init'],
                   ['obj:*/nginx', 'fun:ngx_single_process_cycle']);

# Sections this runner understands; anything else fails the block rather
# than being silently ignored.
our %KnownSections = map { $_ => 1 } qw(
    ONLY SKIP LAST config http_config main_config post_main_config
    request raw_request raw_request_middle_delay pipelined_requests
    more_headers error_code error_code_like response_body
    response_body_like response_body_unlike response_headers
    response_headers_like raw_response_headers_like
    raw_response_headers_unlike error_log no_error_log shutdown_error_log
    no_shutdown_error_log access_log no_access_log timeout wait init
    must_die abort ignore_response log_level no_check_leak
);

# ------------------------------------------------- configuration functions

sub repeat_each (@)        { $RepeatEach = shift if @_; $RepeatEach }
sub workers (@)            { $Workers = shift if @_; $Workers }
sub worker_connections (@) { $WorkerConnections = shift if @_; $WorkerConnections }
sub log_level (@)          { $LogLevel = shift if @_; $LogLevel }
sub timeout (@)            { $Timeout = shift if @_; $Timeout }
sub server_name (@)        { $ServerName = shift if @_; $ServerName }
sub config_preamble ($)    { $ConfigPreamble = shift }
sub no_shuffle ()          { $NoShuffle = 1 }
sub no_root_location ()    { $NoRootLocation = 1 }
sub no_long_string ()      { $NoLongString = 1 }
sub master_on ()           { $MasterProcess = 'on' }
sub master_off ()          { $MasterProcess = 'off' }
sub master_process_enabled (@) {
    $MasterProcess = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcess;
}
sub add_block_preprocessor (&) { push @BlockPreprocessors, shift }
sub add_cleanup_handler ($)    { unshift @CleanupHandlers, shift }

sub env_to_nginx (@) {
    for my $v (@_) {
        croak "env_to_nginx: bad argument: $v" if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub server_addr (@) {
    croak "server_addr: only 127.0.0.x is supported" if @_ && $_[0] !~ /^127\./;
    $ServerAddr = shift if @_;
    return $ServerAddr;
}

# ------------------------------------------------------- per-file set-up

sub find_nginx () {
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    return File::Spec->rel2abs($bin) if $bin =~ m{/};
    for my $dir (split(/:/, $ENV{PATH} // ''), '/usr/sbin', '/usr/local/sbin') {
        my $p = File::Spec->catfile($dir || '.', $bin);
        return File::Spec->rel2abs($p) if -f $p && -x _;
    }
    return $bin;
}

sub pick_free_port () {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "cannot bind a TCP port on 127.0.0.1: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

our $MainPid     = $$;
our $NginxBinary = find_nginx();
our $ServerPort  = $ENV{TEST_NGINX_SERVER_PORT} || pick_free_port();
our $TempRoot    = !$ENV{TEST_NGINX_SERVROOT};
our $ServRoot    = $TempRoot
    ? File::Temp::tempdir('test-nginx-XXXXXX', TMPDIR => 1)
    : File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT});
our $LogDir      = "$ServRoot/logs";
our $ConfDir     = "$ServRoot/conf";
our $HtmlDir     = "$ServRoot/html";
our $ConfFile    = "$ConfDir/nginx.conf";
our $ErrLogFile  = "$LogDir/error.log";
our $AccLogFile  = "$LogDir/access.log";
our $StderrFile  = "$LogDir/stderr.log";
our $SuppFile    = -f 't/valgrind.suppress' ? File::Spec->rel2abs('t/valgrind.suppress') : undef;
our @LoadModules = map { File::Spec->rel2abs($_) }
                   grep { length } split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');

$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_SERVROOT} = $ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
$ENV{TEST_NGINX_HTML_DIR} = $HtmlDir;

our ($NginxPid, $WatchdogFh, $WatchdogPid, $ErrPos, $AccPos, $Cleaned, $NginxV, $PrevConf);
our %RandPorts;

sub server_root ()            { $ServRoot }
sub html_dir ()               { $HtmlDir }
sub server_port (@)           { $ServerPort }
sub server_port_for_client () { $ServerPort }

sub setup_server_root () {
    return if $NginxV;
    make_path($ServRoot);
    # never remove a user-supplied TEST_NGINX_SERVROOT itself, only our dirs
    remove_tree($ConfDir, $LogDir, $HtmlDir, glob("$ServRoot/*_temp"));
    make_path($ConfDir, $LogDir, $HtmlDir);
    write_file("$HtmlDir/index.html",
        '<html><head><title>It works!</title></head><body>It works!</body></html>');
    my $n = 0;
    write_file("$ConfDir/stock-nginx.supp", join '', map {
        "{\n  stock-nginx-exit-leak-" . ++$n . "\n  Memcheck:Leak\n  match-leak-kinds: definite\n"
        . "  fun:malloc\n  fun:ngx_alloc\n" . join('', map { "  $_\n" } @$_) . "}\n"
    } @StockLeaks);
    $NginxV = `"$NginxBinary" -V 2>&1` // '';
}

# ------------------------------------------------------------- utilities

sub write_file ($$) {
    my ($path, $data) = @_;
    open my $fh, '>', $path or die "cannot write $path: $!\n";
    binmode $fh;
    print {$fh} $data;
    close $fh or die "cannot write $path: $!\n";
}

# Lines of $file from byte offset $$pos on; advances $$pos when it is a ref.
sub read_lines ($$) {
    my ($file, $pos) = @_;
    my $off = ref $pos ? $$pos : $pos;
    open my $fh, '<', $file or return [];
    seek $fh, $off // 0, SEEK_SET;
    my @lines = <$fh>;
    $$pos = tell $fh if ref $pos;
    close $fh;
    return \@lines;
}

sub parse_time ($) {
    my $t = shift;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return undef if $t eq '';
    return $1 / 1000 if $t =~ /^([\d.]+)ms$/;
    $t =~ s/s$//;
    return $t;
}

sub show_str ($) {
    my $s = shift;
    return 'undef' unless defined $s;
    my %esc = ("\n" => '\n', "\r" => '\r', "\t" => '\t');
    $s =~ s/([\\"])/\\$1/g;
    $s =~ s/([^\x20-\x7e])/$esc{$1} \/\/ sprintf('\\x{%02x}', ord $1)/ge;
    return qq{"$s"};
}

# is() for long strings: on mismatch, report where the strings diverge.
sub is_str ($$;$) {
    my ($got, $exp, $desc) = @_;
    return like($got, $exp, $desc) if ref $exp eq 'Regexp';
    return Test::More::is($got, $exp, $desc) if $NoLongString;
    return Test::More::is($got, $exp, $desc) if !defined $got || !defined $exp;
    return ok(1, $desc) if $got eq $exp;
    ok(0, $desc);
    my $i = 0;
    $i++ while $i < length($got) && $i < length($exp)
               && substr($got, $i, 1) eq substr($exp, $i, 1);
    my $from = $i > 30 ? $i - 30 : 0;
    my $pre = $from ? '...' : '';
    diag(sprintf("         got: %s%s\n      length: %d\n    expected: %s%s\n      length: %d\n"
                 . "    strings begin to differ at char %d (line %d)",
                 $pre, show_str(substr($got, $from, 80)), length $got,
                 $pre, show_str(substr($exp, $from, 80)), length $exp,
                 $i + 1, 1 + (substr($got, 0, $i) =~ tr/\n//)));
    return 0;
}

sub failures () {
    return scalar grep { !$_ } Test::More->builder->summary;
}

sub expand_env ($$) {
    my ($text, $strict) = @_;
    return $text if !defined $text || ref $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $v = $1;
        if ($v =~ /^TEST_NGINX_RAND_PORT_\d+$/) { $RandPorts{$v} //= pick_free_port() }
        elsif (defined $ENV{$v}) { $ENV{$v} }
        elsif ($strict) { die "no environment variable $v defined\n" }
        else { "\$$v" }
    }ge;
    return $text;
}

# ----------------------------------------------- process management

# A tiny helper process that SIGKILLs the nginx process groups we started if
# this test process dies without cleaning up (even by SIGKILL): it blocks
# reading a pipe whose write end only we hold.
sub watchdog ($) {
    my $msg = shift;
    if (!$WatchdogFh) {
        pipe(my $r, my $w) or return;
        STDOUT->flush; STDERR->flush;
        my $pid = fork();
        return unless defined $pid;
        if ($pid == 0) {
            close $w;
            $SIG{$_} = 'IGNORE' for qw(INT TERM HUP QUIT PIPE);
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', '/dev/null';
            my %groups;
            while (my $line = <$r>) {
                next unless $line =~ /^([+-])(\d+)$/;
                $1 eq '+' ? ($groups{$2} = 1) : delete $groups{$2};
            }
            kill 'KILL', -$_ for keys %groups;
            POSIX::_exit(0);
        }
        close $r;
        $w->autoflush(1);
        ($WatchdogFh, $WatchdogPid) = ($w, $pid);
    }
    local $SIG{PIPE} = 'IGNORE';
    print {$WatchdogFh} "$msg\n";
}

sub port_listening ($) {
    my $port = shift;
    if (open my $fh, '<', '/proc/net/tcp') {
        my $hex = sprintf '%04X', $port;
        while (<$fh>) {
            return 1 if /^\s*\d+:\s+[0-9A-F]{8}:$hex\s+\S+\s+0A\s/;
        }
        return 0;
    }
    my $s = IO::Socket::INET->new(PeerAddr => $ServerAddr, PeerPort => $port, Timeout => 0.2);
    return $s ? 1 : 0;
}

sub describe_status ($) {
    my $st = shift;
    return 'unknown exit status' unless defined $st;
    return 'exited on signal ' . ($st & 127) . (($st & 128) ? ' (core dumped)' : '') if $st & 127;
    return 'exited with status ' . ($st >> 8);
}

# Start nginx in the foreground as our child, in its own process group.
# Returns { up => 1 } once it listens on the port, or { why => ..., status => ... }.
sub start_nginx ($$) {
    my ($wait, $valgrind) = @_;
    return { why => "port $ServerPort on 127.0.0.1 is already in use by another process" }
        if port_listening($ServerPort);
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    if ($valgrind) {
        my @opts = ('--tool=memcheck', '--leak-check=full', '--show-leak-kinds=definite',
                    '--errors-for-leak-kinds=definite', '--num-callers=30',
                    '--gen-suppressions=all', '--vgdb=no', "--log-file=$LogDir/valgrind.%p.log",
                    # nginx unloads its modules (and their libraries)
                    # before the leak check: keep their symbols readable
                    '--keep-debuginfo=yes');
        push @opts, "--suppressions=$ConfDir/stock-nginx.supp"
            unless ($ENV{TEST_NGINX_VALGRIND_STOCK_SUPP} // 1) eq '0';
        push @opts, "--suppressions=$SuppFile" if $SuppFile;
        push @opts, split ' ', $UseValgrind if $UseValgrind !~ /^\d+$/;
        unshift @cmd, 'valgrind', @opts;
    }
    unlink "$LogDir/nginx.pid";
    STDOUT->flush; STDERR->flush;
    my $pid = fork() // die "fork() failed: $!\n";
    if ($pid == 0) {
        setpgrp(0, 0);
        chdir $ServRoot;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $StderrFile;
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "cannot exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    eval { setpgrp($pid, $pid) };   # also from here, to avoid a race
    $NginxPid = $pid;
    watchdog("+$pid");
    my $deadline = time + $wait;
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            my $st = $?;
            watchdog("-$pid");
            undef $NginxPid;
            return { status => $st, why => 'nginx ' . describe_status($st) . ' during start-up' };
        }
        return { up => 1 } if port_listening($ServerPort);
        if (time > $deadline) {
            stop_nginx(0);
            return { why => "nginx did not listen on 127.0.0.1:$ServerPort within ${wait}s" };
        }
        sleep 0.02;
    }
}

# SIGQUIT (graceful), then SIGKILL to the whole group after $grace seconds.
sub stop_nginx ($) {
    my $grace = shift;
    my $pid = $NginxPid or return undef;
    my ($st, $killed);
    kill 'QUIT', $pid if $grace > 0;
    my $deadline = time + $grace;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) { $st = $?; last }
        last if $r == -1;
        if (time >= $deadline) {
            $killed = 1 if $grace > 0;
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $st = $?;
            last;
        }
        sleep 0.02;
    }
    kill 'KILL', -$pid;   # stray workers left in the group, if any
    watchdog("-$pid");
    undef $NginxPid;
    return { status => $st, killed => $killed, pid => $pid };
}

# Worker pids of the running nginx (the master itself without master process).
sub worker_pids () {
    my $master = $NginxPid or return ();
    return ($master) if $UseValgrind || $MasterProcess ne 'on';
    for (1 .. 100) {
        my @kids;
        for my $stat (glob '/proc/[0-9]*/stat') {
            open my $fh, '<', $stat or next;
            my $line = <$fh> // next;
            push @kids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) /s && $2 == $master;
        }
        return @kids if @kids;
        sleep 0.02;
    }
    return ();
}

sub cleanup () {
    return if $Cleaned++ || $$ != $MainPid;
    $_->() for @CleanupHandlers;
    if ($NginxPid && $NoClean) {
        diag("TEST_NGINX_NO_CLEAN: leaving nginx (pid $NginxPid) running in $ServRoot");
        watchdog("-$NginxPid");
        undef $NginxPid;
    }
    stop_nginx(3) if $NginxPid;
    if ($WatchdogFh) {
        close $WatchdogFh;
        waitpid($WatchdogPid, 0);
        undef $WatchdogFh;
    }
    my $failed = !Test::More->builder->is_passing;
    if ($TempRoot && !$Keep && !$NoClean) {
        remove_tree($ServRoot);
        diag("server root was $ServRoot (removed; rerun with TEST_NGINX_KEEP=1 to keep it)") if $failed;
    } elsif ($failed) {
        diag("server root kept: $ServRoot");
    }
}

for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub {
        if ($$ == $MainPid) {
            stop_nginx(0) if $NginxPid;
            $NoClean = 0;
            cleanup();
        }
        $SIG{$sig} = 'DEFAULT';
        kill $sig, $$;
    };
}

END {
    if (defined $MainPid && $$ == $MainPid) {
        local $?;
        cleanup();
    }
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(@_);
}

# --------------------------------------------------------- config file

sub build_conf ($) {
    my $block = shift;
    my $http_config = expand_env($block->http_config // '', 1);
    my $main_config = expand_env($block->main_config // '', 1);
    my $post_main   = expand_env($block->post_main_config // '', 1);
    my $config      = expand_env($block->config // '', 1);
    my $level       = $block->log_level // $LogLevel;
    $level =~ s/^\s+|\s+$//g;
    my $master      = $UseValgrind && !defined $block->must_die ? 'off' : $MasterProcess;

    my $modules = join '', map { "load_module $_;\n" } @LoadModules;
    my $env = join '', ($> == 0 ? "user root;\n" : ''), map { "env $_;\n" } @EnvToNginx;
    my $temp = join '', map { "    ${_}_temp_path ${_}_temp;\n" }
        grep { $http_config !~ /\b${_}_temp_path\b/
               && ($_ eq 'client_body' || $NginxV !~ /--without-http_${_}_module/) }
        qw(client_body proxy fastcgi uwsgi scgi);
    my $root = $NoRootLocation ? '' : "        location / {\n            root html;\n"
                                    . "            index index.html index.htm;\n        }\n";
    return <<"_EOC_";
# generated by t/lib/Test/Nginx/Socket.pm for: ${\ $block->name }
${modules}worker_processes $Workers;
daemon off;
master_process $master;
error_log logs/error.log $level;
pid logs/nginx.pid;
$env
$main_config

events {
    accept_mutex off;
    worker_connections $WorkerConnections;
}

http {
    access_log logs/access.log;
    default_type text/plain;
    keepalive_timeout 68;
$temp
$http_config

    server {
        listen $ServerAddr:$ServerPort;
        server_name $ServerName;
        client_max_body_size 30M;

$ConfigPreamble
$config
$root    }
}

$post_main
_EOC_
}

# -------------------------------------------------------------- requests

sub parse_more_headers ($) {
    my $in = shift // '';
    my ($out, $chunked) = ('');
    for my $h (split /\r?\n+/, $in) {
        next if $h =~ /^\s*(?:#|$)/;
        my ($k, $v) = split /:\s*/, $h, 2;
        $v //= '';
        $chunked = 1 if lc $k eq 'transfer-encoding' && $v =~ /^chunked\s*$/i;
        $out .= "$k: $v\r\n";
    }
    return ($out, $chunked);
}

# "METHOD [URI [VERSION]]\nbody" => a full HTTP request (like the real one,
# the body is whitespace-trimmed when we add the Content-Length header).
sub build_request ($$$) {
    my ($text, $more, $conn) = @_;
    1 while $text =~ s/^\s*#[^\n]*\n|^\s+//;
    my ($first, $body) = split /\n/, $text, 2;
    $first //= '';
    $first =~ /^(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(\S+))?\s*$/
        or die "invalid request line: \"$first\" (expected 'METHOD [URI [VERSION]]')\n";
    my ($meth, $uri, $ver) = ($1, $2 // '/', $3 // 'HTTP/1.1');
    $body //= '';
    my ($hdrs, $chunked) = parse_more_headers(expand_env($more, 0));
    my $len = '';
    if (!$chunked && $body ne '' && $hdrs !~ /(?:^|\n)Content-Length\s*:/i) {
        $body =~ s/^\s+|\s+$//gs;
        $len = 'Content-Length: ' . length($body) . "\r\n";
    }
    my $h = '';
    $h .= "Host: $ServerName\r\n" unless $hdrs =~ /(?:^|\n)Host\s*:/i;
    $h .= "Connection: $conn\r\n" unless $hdrs =~ /(?:^|\n)Connection\s*:/i;
    return "$meth $uri $ver\r\n$h$hdrs$len\r\n$body";
}

sub is_head ($) { return $_[0] =~ /^\s*HEAD\s/ ? 1 : 0 }

# Returns a list of connections: { chunks => [...], heads => [one per response] }.
sub build_requests ($) {
    my $block = shift;
    if (defined(my $raw = $block->raw_request)) {
        my @chunks = map { expand_env($_, 0) } ref $raw eq 'ARRAY' ? @$raw : ($raw);
        return [{ chunks => \@chunks, heads => [is_head(join '', @chunks)] }];
    }
    my $more = $block->more_headers;
    my $hdr_for = sub {
        my $i = shift;
        return $more unless ref $more eq 'ARRAY';
        return $more->[$i] // die "--- more_headers lacks data for request $i\n";
    };
    if (defined(my $pl = $block->pipelined_requests)) {
        ref $pl eq 'ARRAY' or die "--- pipelined_requests must be an array ref (use 'eval')\n";
        my $data = '';
        for my $i (0 .. $#$pl) {
            $data .= build_request(expand_env($pl->[$i], 0), $hdr_for->($i),
                                   $i == $#$pl ? 'close' : 'keep-alive');
        }
        return [{ chunks => [$data], heads => [map { is_head($_) } @$pl] }];
    }
    my $req = $block->request
        // die "no --- request, --- raw_request or --- pipelined_requests section\n";
    my @reqs = ref $req eq 'ARRAY' ? @$req : ($req);
    my @out;
    for my $i (0 .. $#reqs) {
        die "request packet arrays are not supported by this runner\n" if ref $reqs[$i];
        my $r = expand_env($reqs[$i], 0);
        push @out, { chunks => [build_request($r, $hdr_for->($i), 'close')], heads => [is_head($r)] };
    }
    return \@out;
}

# Send the chunks on one connection, read until EOF or the deadline.
# Returns ($response, $timed_out, $error).
sub send_and_receive ($$$) {
    my ($chunks, $timeout, $delay) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $deadline = time + $timeout;
    my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr, PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => $timeout)
        or return ('', 0, "cannot connect to $ServerAddr:$ServerPort: $!");
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my ($resp, $err) = ('');
    my $again = sub { $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR} };
  WRITE:
    for my $i (0 .. $#$chunks) {
        sleep $delay if $i && $delay;
        my ($buf, $off) = ($chunks->[$i], 0);
        while ($off < length $buf) {
            my $left = $deadline - time;
            return ($resp, 1, undef) if $left <= 0;
            next unless $sel->can_write($left);
            my $n = syswrite($sock, $buf, length($buf) - $off, $off);
            if (!defined $n) {
                next if $again->();
                $err = "write failed: $!";   # nginx may answer early and close
                last WRITE;
            }
            $off += $n;
        }
    }
    while (1) {
        my $left = $deadline - time;
        return ($resp, 1, $err) if $left <= 0;
        next unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 65536);
        if (!defined $n) {
            next if $again->();
            $err //= "read failed: $!";
            last;
        }
        last if $n == 0;
        $resp .= $buf;
    }
    close $sock;
    return ($resp, 0, $err);
}

# Parse one response off the front of $raw.  Returns ($res, $rest, $error);
# $res is undef when nothing at all was received.
sub parse_response ($$) {
    my ($raw, $head) = @_;
    return (undef, '', undef) if !defined $raw || $raw eq '';
    my %res = (code => '', headers => {}, raw_headers => '', body => $raw);
    # interim responses ("100 Continue") come before the final one, as
    # HTTP clients read them; their text stays in the raw headers
    my $interim = '';
    $interim .= $1
        while $raw =~ s{\A(HTTP/\d+\.\d+[ \t]+1(?!01)\d\d[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)}{};
    $raw =~ s{\A(HTTP/\d+\.\d+[ \t]+(\d{3})[^\r\n]*)\r?\n}{}
        or return (\%res, '', 'malformed status line');
    $res{code} = $2;
    my $status_line = $interim . $1;
    my $hdr_text = '';
    if ($raw =~ s/\A((?:[^\r\n]+\r?\n)*?)\r?\n//) { $hdr_text = $1 }
    else { ($hdr_text, $raw) = ($raw, ''); }
    $res{raw_headers} = "$status_line\r\n$hdr_text";
    for (split /\r?\n/, $hdr_text) {
        push @{ $res{headers}{lc $1} }, $2 if /^([^:]+?)\s*:\s*(.*?)\s*$/;
    }
    my $te  = lc join ',', @{ $res{headers}{'transfer-encoding'} || [] };
    my $len = $res{headers}{'content-length'} ? $res{headers}{'content-length'}[0] : undef;
    my ($body, $err) = ('');
    if ($head || $res{code} =~ /^(?:1\d\d|204|304)$/) {
        # no body
    } elsif ($te =~ /chunked/) {
        while (1) {
            $raw =~ s/\A[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n//
                or do { $err = 'invalid chunked body: ' . (length $raw ? 'bad chunk size' : 'no last chunk'); last };
            my $n = hex $1;
            if ($n == 0) {   # last chunk, optional trailer
                $raw =~ s/\A(?:[^\r\n]+\r\n)*\r\n// or $err = 'invalid chunked body: incomplete trailer';
                last;
            }
            $body .= substr($raw, 0, $n, '');
            $raw =~ s/\A\r\n// or do { $err = 'invalid chunked body: truncated chunk'; last };
        }
    } elsif (defined $len && $len =~ /^\d+$/) {
        $body = substr($raw, 0, $len, '');
        diag("WARNING: response body truncated: $len bytes expected, got " . length $body)
            if length $body < $len;
    } else {
        ($body, $raw) = ($raw, '');
    }
    $res{body} = $body;
    return (\%res, $raw, $err);
}

sub header_value ($$) {
    my ($res, $name) = @_;
    return undef unless $res && $res->{headers}{lc $name};
    return join ', ', @{ $res->{headers}{lc $name} };
}

sub indexed ($$$) {
    my ($value, $idx, $need_array) = @_;
    return $value if !defined $value || ref $value ne 'ARRAY' && !$need_array;
    die "many requests were sent, so the expected values must be arrays too (use 'eval')\n"
        if ref $value ne 'ARRAY';
    return $value->[$idx];
}

sub check_response ($$$$$) {
    my ($block, $res, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $code = $res ? $res->{code} : '';
    my $port_subst = sub { my $s = shift; $s =~ s/\$ServerPort(?:ForClient)?\b/$ServerPort/g; $s };

    if (defined(my $like = indexed($block->error_code_like, $idx, $need_array))) {
        like($code, qr/$like/sm, "$name - status code ok");
    } else {
        my $exp = indexed($block->error_code, $idx, $need_array) // 200;
        $exp =~ s/^\s+|\s+$//g;
        is($code, $exp, "$name - status code ok");
    }

    for my $kind (qw(raw_response_headers_like raw_response_headers_unlike)) {
        my $pat = indexed($block->$kind, $idx, $need_array) // next;
        my $f = $kind =~ /unlike$/ ? \&unlike : \&like;
        $f->($res ? $res->{raw_headers} : '', qr/$pat/s,
             "$name - raw resp headers " . ($kind =~ /unlike$/ ? 'unlike' : 'like'));
    }
    if (defined(my $spec = indexed($block->response_headers, $idx, $need_array))) {
        for my $line (split /\n/, $spec) {
            $line =~ s/^\s+|\s+$//g;
            next if $line eq '';
            if ($line =~ s/^!\s*//) {
                my $got = header_value($res, $line);
                ok(!defined $got, "$name - header $line not present in the raw headers")
                    or diag("    got: $line: $got");
                next;
            }
            my ($k, $v) = split /\s*:\s*/, $line, 2;
            is(header_value($res, $k) // '', $port_subst->($v // ''), "$name - header $k ok");
        }
    }
    if (defined(my $spec = indexed($block->response_headers_like, $idx, $need_array))) {
        for my $line (split /\n/, $spec) {
            $line =~ s/^\s+|\s+$//g;
            next if $line eq '';
            my ($k, $v) = split /\s*:\s*/, $line, 2;
            like(header_value($res, $k) // '', qr/^$v$/, "$name - header $k like ok");
        }
    }

    my $body = $res ? $res->{body} : undef;
    my $where = "(repeated req $rep, req $idx)";
    if (defined(my $exp = indexed($block->response_body, $idx, $need_array))) {
        if (ref $exp eq 'Regexp') {
            like($body, $exp, "$name - response_body - like $where");
        } else {
            is_str($body, $port_subst->($exp), "$name - response_body - response is expected $where");
        }
        return;
    }
    for my $kind (qw(like unlike)) {
        my $pat = indexed($block->${\"response_body_$kind"}, $idx, $need_array) // next;
        $pat = $port_subst->($pat) unless ref $pat;
        my $summary = substr(join(' ', split ' ', $body // ''), 0, 60);
        my $f = $kind eq 'like' ? \&like : \&unlike;
        $f->($body // '', qr/$pat/s, "$name - response_body_$kind - response is expected ($summary)");
    }
}

sub run_requests ($$$) {
    my ($block, $rep, $timeout) = @_;
    my $name = $block->name;
    my $conns = build_requests($block);
    my $need_array = defined $block->pipelined_requests || @$conns > 1;
    my $idx = 0;
    for my $c (@$conns) {
        my ($raw, $timed_out, $err) =
            send_and_receive($c->{chunks}, $timeout, parse_time($block->raw_request_middle_delay));
        if ($timed_out && !defined $block->abort) {
            fail("$name - timed out after ${timeout}s waiting for the response (req $idx)");
            diag("    received so far: " . show_str(substr($raw, 0, 300)));
        }
        if (defined $err && !length $raw) {
            fail("$name - $err");
        }
        for my $head (@{ $c->{heads} }) {
            my ($res, $rest, $perr) = parse_response($raw, $head);
            $raw = $rest;
            fail("$name - $perr") if $perr && !$timed_out;
            check_response($block, $res, $idx, $rep, $need_array)
                unless defined $block->ignore_response;
            $idx++;
        }
        diag("WARNING: $name - unexpected extra bytes after the response: " . show_str(substr($raw, 0, 200)))
            if length $raw && !defined $block->ignore_response;
    }
}

# ------------------------------------------------------------ log checks

sub pattern_list ($) {
    my $p = shift;
    return () unless defined $p;
    return ($p) if ref $p eq 'Regexp';
    return @$p if ref $p eq 'ARRAY';
    chomp $p;
    return split /\n+/, $p;
}

sub check_patterns ($$$$$) {
    my ($name, $lines, $pats, $want, $where) = @_;
    for my $pat (pattern_list($pats)) {
        next unless defined $pat;
        my @hits = grep { ref $pat ? $_ =~ $pat : index($_, $pat) >= 0 } @$lines;
        my $p = show_str("$pat");
        if ($want) {
            ok(scalar @hits, @hits ? qq{$name - pattern $p matches a line in $where}
                                   : qq{$name - pattern $p should match a line in $where});
        } else {
            ok(!@hits, !@hits ? qq{$name - pattern $p does not match a line in $where}
                : "$name - pattern $p should not match any line in $where but matches line "
                  . show_str(substr $hits[0], 0, 160))
                or diag(join '', map { "    $_" } @hits[0 .. ($#hits > 4 ? 4 : $#hits)]);
        }
    }
}

# The lines a log gained since *pos.  Log-phase lines land after the
# response has gone, so a busy box may not have written them yet: while a
# pattern that must match does not, read again, for up to 5 s (10 times
# that under valgrind); patterns that must not match get the first 50 ms.
sub new_log_lines ($$$$) {
    my ($file, $pos, $pats, $extra) = @_;
    sleep 0.05;
    my @want = grep { defined } pattern_list($pats);
    my $lines = read_lines($file, $pos);
    push @$lines, @$extra;
    my $deadline = time + ($UseValgrind ? 50 : 5);
    for (;;) {
        my $missing = grep {
            my $pat = $_;
            !grep { ref $pat ? $_ =~ $pat : index($_, $pat) >= 0 } @$lines
        } @want;
        last if !$missing || time > $deadline;
        sleep 0.05;
        push @$lines, @{ read_lines($file, $pos) };
    }
    return $lines;
}

sub check_logs ($$$) {
    my ($block, $rep, $extra_lines) = @_;
    my $name = $block->name;
    if (defined $block->error_log || defined $block->no_error_log) {
        my $lines = new_log_lines($ErrLogFile, \$ErrPos, $block->error_log,
                                  $extra_lines);
        check_patterns($name, $lines, $block->error_log, 1, "error.log (req $rep)");
        check_patterns($name, $lines, $block->no_error_log, 0, "error.log (req $rep)");
    }
    if (defined $block->access_log || defined $block->no_access_log) {
        my $lines = new_log_lines($AccLogFile, \$AccPos, $block->access_log, []);
        check_patterns($name, $lines, $block->access_log, 1, "access.log (req $rep)");
        check_patterns($name, $lines, $block->no_access_log, 0, "access.log (req $rep)");
    }
}

# Checks that only emit a test when something is wrong, so that a passing
# block has exactly the same number of tests as under the real module.
sub sanity_checks ($$$) {
    my ($block, $start, $stop) = @_;
    my $name = $block->name;
    my $expected = join "\n", map { ref $_ eq 'ARRAY' ? @$_ : $_ }
                   grep { defined } $block->error_log, $block->shutdown_error_log;
    my $skip_alert = $expected =~ /alert|exited on signal/i;
    my $skip_emerg = $expected =~ /emerg/i || defined $block->must_die;
    my $log = read_lines($ErrLogFile, $start->{err});
    my $err = [grep { !/could not open error log file/ } @{ read_lines($StderrFile, $start->{stderr}) }];
    my @bad = grep { (!$skip_alert && /\[alert\]|exited on signal/) || (!$skip_emerg && /\[emerg\]/) }
              @$log, @$err;
    if (@bad) {
        fail("$name - no [alert] or [emerg] in error log");
        diag(join '', map { "    $_" } @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
    }
    my @san = grep { /$SanitizerRe/ } @$log, @$err;
    if (@san) {
        fail("$name - no sanitizer report in error log or stderr");
        diag(join '', map { "    $_" } @san[0 .. ($#san > 9 ? 9 : $#san)]);
    }
    if ($stop && ($stop->{killed} || !defined $stop->{status} || $stop->{status} != 0)) {
        fail("$name - nginx exited cleanly");
        diag($stop->{killed} ? "    nginx did not exit after SIGQUIT; it was killed with SIGKILL"
                             : '    nginx ' . describe_status($stop->{status}));
    }
    check_valgrind($name, $stop->{pid}) if $stop && $UseValgrind && !defined $block->must_die;
}

sub check_valgrind ($$) {
    my ($name, $pid) = @_;
    my $file = "$LogDir/valgrind.$pid.log";
    open my $fh, '<', $file or do { diag("WARNING: $name - no valgrind log $file"); return };
    my $text = do { local $/; <$fh> };
    close $fh;
    # stanzas end at a "==PID== " line; keep each generated suppression
    # ("{ ... }", printed after that line) with its stanza
    $text =~ s/^==\d+==[ \t]*\n(?=\{$)//mg;
    $text =~ s/^\}\n/}\n==0==\n/mg;
    my @bad;
    for my $stanza (split /^==\d+==[ \t]*\n/m, $text) {
        (my $first = $stanza) =~ s/^==\d+==\s*//;
        push @bad, $stanza if $first =~ $ValgrindErrRe;
    }
    my ($lost) = $text =~ /definitely lost: ([\d,]+) bytes/;
    $lost =~ tr/,//d if defined $lost;
    push @bad, "LEAK SUMMARY: definitely lost: $lost bytes\n" if !@bad && $lost;
    return unless @bad;
    fail("$name - valgrind: no memory errors or definite leaks");
    my @shown = map { my @l = split /^/; join '', @l > 40 ? (@l[0 .. 39], "    ...\n") : @l }
                grep { defined } @bad[0 .. 4];
    diag("    $file:\n" . join "\n", @shown);
}

sub diag_block ($$) {
    my ($block, $start) = @_;
    my $name = $block->name;
    my $saved = sprintf '%s/failed-%d.conf', $ConfDir, $block->seq_num // 0;
    write_file($saved, do { local $/; open my $fh, '<', $ConfFile or return; <$fh> });
    my $log = read_lines($ErrLogFile, $start->{err});
    my $debug = 0;   # skip [debug] lines and their continuation lines
    my @shown = grep { $debug = /\[debug\]/ if m{^\d{4}/\d\d/\d\d }; !$debug } @$log;
    @shown = @shown[-30 .. -1] if @shown > 30;
    my $msg = "$name - server root $ServRoot, config $saved\n";
    $msg .= "    error.log of this block (" . @$log . " lines; the last non-debug ones):\n"
        . join '', map { "    | $_" } @shown if @$log;
    my $err = read_lines($StderrFile, $start->{stderr});
    $msg .= "    nginx stderr:\n" . join '', map { "    | $_" } @$err[0 .. ($#$err > 29 ? 29 : $#$err)]
        if @$err;
    diag($msg);
}

# ------------------------------------------------------------- the runner

sub run_block_inner ($$$) {
    my ($block, $is_last, $start) = @_;
    my $name = $block->name;
    my @unknown = grep { !$KnownSections{$_} } @{ $block->{_section_order}[0] || [] };
    die "unsupported section(s): " . join(', ', map { "--- $_" } @unknown)
        . " (t/lib/Test/Nginx/Socket.pm implements a subset of Test::Nginx::Socket)\n" if @unknown;

    my $must_die = $block->must_die;
    my $valgrind = $UseValgrind && !defined $must_die;
    my $timeout = parse_time($block->timeout) // $Timeout;
    $timeout *= 10 if $valgrind;
    %RandPorts = ();
    # like the real one, a block without --- config reuses the previous server
    $PrevConf = build_conf($block) if defined $block->config || !defined $PrevConf;
    write_file($ConfFile, $PrevConf);

    my $st = start_nginx(max($timeout, 15), $valgrind);
    if (defined $must_die) {
        if ($st->{up}) {
            fail("$name - nginx should have failed to start, but it is listening");
            stop_nginx(3);
        } elsif ($must_die =~ /^\s*(\d+)\s*$/) {
            is(defined $st->{status} ? $st->{status} >> 8 : '', $1, "$name - die with the expected exit code");
        } else {
            ok(defined $st->{status} && $st->{status} != 0, "$name - die as expected")
                or diag("    $st->{why}");
        }
        check_logs($block, 0, read_lines($StderrFile, $start->{stderr}));
        sanity_checks($block, $start, undef);
        return;
    }
    if (!$st->{up}) {
        fail("$name - nginx started: $st->{why}");
        return;
    }

    if (defined(my $init = $block->init)) {
        eval "package Test::Nginx::Socket; no strict; $init; 1" or die "--- init failed: $@";
    }
    for my $rep (0 .. $RepeatEach - 1) {
        run_requests($block, $rep, $timeout);
        if (my $w = parse_time($block->wait)) { sleep $w }
        check_logs($block, $rep, []);
    }

    return if $NoClean && $is_last;
    my $stop = stop_nginx($valgrind ? max($timeout, 60) : max($timeout, 10));
    if (defined $block->shutdown_error_log || defined $block->no_shutdown_error_log) {
        my $lines = read_lines($ErrLogFile, \$ErrPos);
        check_patterns($name, $lines, $block->shutdown_error_log, 1, 'error.log');
        check_patterns($name, $lines, $block->no_shutdown_error_log, 0, 'error.log');
    }
    sanity_checks($block, $start, $stop);
}

sub run_block ($$) {
    my ($block, $is_last) = @_;
    return if defined $block->SKIP;
    my $before = failures();
    my %start = (err => -s $ErrLogFile || 0, stderr => -s $StderrFile || 0);
    ($ErrPos, $AccPos) = ($start{err}, -s $AccLogFile || 0);
    my $ok = eval { run_block_inner($block, $is_last, \%start); 1 };
    my $err = $@;
    if (!$ok) {
        stop_nginx(3) if $NginxPid;
        chomp $err;
        fail($block->name . " - $err");
    }
    diag_block($block, \%start) if failures() > $before;
}

sub run_test ($) {
    setup_server_root();
    run_block(shift, 1);
}

sub run_tests () {
    setup_server_root();
    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;
    for my $i (0 .. $#blocks) {
        my $block = $blocks[$i];
        $_->($block) for @BlockPreprocessors;
        $block->set_value(name => "$0 " . $block->name);
        run_block($block, $i == $#blocks);
    }
    cleanup();
}

1;
__END__

=head1 NAME

Test::Nginx::Socket - local subset of the CPAN Test::Nginx::Socket

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';    # or: plan tests => ...
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello
    --- no_error_log
    [error]

=head1 DESCRIPTION

Runs the blocks of a test file against nginx, following the block format of
the real module for the sections in C<%KnownSections> (any other section
fails the block).  For every block nginx is (re)started in the foreground
(C<daemon off>, C<master_process on>) as a child in its own process group,
with a free 127.0.0.1 port and a private prefix directory; it is stopped
with SIGQUIT (SIGKILL after a grace period) after the block.  A watchdog
process kills nginx if the test process dies.  C<--- init> code runs after
nginx is up; C<Test::Nginx::Socket::worker_pids()> returns its workers.

Environment: TEST_NGINX_BINARY (default C<nginx> in PATH, else
/usr/sbin/nginx), TEST_NGINX_LOAD_MODULES (.so paths), TEST_NGINX_SERVROOT
(fixed prefix; default a fresh temp dir, removed unless TEST_NGINX_KEEP=1),
TEST_NGINX_SERVER_PORT, TEST_NGINX_TIMEOUT, TEST_NGINX_LOG_LEVEL,
TEST_NGINX_NO_SHUFFLE, TEST_NGINX_NO_CLEAN (leave the last nginx running),
TEST_NGINX_USE_VALGRIND (1, or extra valgrind options; uses
t/valgrind.suppress when present, plus built-in suppressions for stock
nginx's exit-time leaks unless TEST_NGINX_VALGRIND_STOCK_SUPP=0).

=head2 Differences from the real module

=over

=item * Every block also fails on C<[alert]>, C<[emerg]> or "exited on
signal" in its error log or nginx's stderr, on sanitizer reports, on an
unclean nginx exit and, with valgrind, on memcheck errors or definite leaks.
These checks emit a test only when they fail, so passing blocks count
exactly as under the real module.

=item * Both C<response_body_like> and C<_unlike>, and both
C<response_headers> and C<_like>, are checked when given together; with
C<pipelined_requests>, log sections are checked once.

=item * Not implemented: HTTP/2 and HTTP/3, curl, stap, TCP/UDP mock
servers, user_files, skip_*/todo sections, request packet arrays, HUP reload,
check-leak and benchmark modes.

=back

=cut
