package Matcher::Store;

# The contract's suites on either store.  A suite that says
# "use Matcher::Store;" runs on LMDB as written; with
# TEST_MATCHER_STORE=mongodb in the environment (make test's third run)
# every "matcher_store lmdb:DIR ...;" of its configurations becomes
# "matcher_store mongodb uri=... dir=DIR ...;" against a MongoDB
# wire-protocol test server (t/mongo/fake_mongo.py) started for the file,
# with a fresh data directory, and stopped at its end.  The LMDB
# directory stays as the local index's directory.
#
# Block suites are rewritten by a block preprocessor (a Test::Nginx API,
# so they stay runnable under the real Test::Nginx), flow suites by
# Matcher::Flow::start_server(), which calls rewrite().

use strict;
use warnings;


my $Kind = $ENV{TEST_MATCHER_STORE} || 'lmdb';
my $Mongo;

die "TEST_MATCHER_STORE must be lmdb or mongodb, not \"$Kind\"\n"
    unless $Kind eq 'lmdb' || $Kind eq 'mongodb';

sub store_kind { $Kind }

sub mongo {
    return $Mongo if $Mongo;
    require Matcher::Mongo;
    $Mongo = Matcher::Mongo::start_mongo();
    return $Mongo;
}

# the configuration text with its LMDB store made a MongoDB one
sub rewrite {
    my ($conf) = @_;
    return $conf if $Kind eq 'lmdb' || !defined $conf;
    $conf =~ s{matcher_store\s+lmdb:(\S+)[^;]*;}{
        my $port = mongo()->{port};
        "matcher_store mongodb uri=mongodb://127.0.0.1:$port/"
        . " db=matcher dir=$1 timeout=2s;"
    }ge;
    return $conf;
}

sub import {
    my $class = shift;
    if ($Kind eq 'mongodb' && defined &Test::Nginx::Socket::add_block_preprocessor) {
        Test::Nginx::Socket::add_block_preprocessor(sub {
            my $block = shift;
            my $http = $block->http_config;
            $block->set_value(http_config => rewrite($http))
                if defined $http;
        });
    }
}

END {
    local $?;       # waitpid in there must not become our exit status
    Matcher::Mongo::stop_mongo($Mongo) if $Mongo;
}

1;
